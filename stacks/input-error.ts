/**
 * Bad input a user can fix: a list of problems, each naming what it is about, shown without
 * a stack trace. The configuration (`ConfigError`) and the constructs (`PropsError`) both
 * report this way, so `npm run synth` prints either as a list and exits 1.
 */

/** One bad input: where, and what to do about it. */
export interface InputProblem {
  /** A configuration field (`cluster.minInstances`) or a construct prop (`WebService.cpuUnits`). */
  readonly field: string;
  readonly message: string;
}

export class InputError extends Error {
  constructor(
    heading: string,
    readonly problems: readonly InputProblem[],
    lines: readonly string[],
    footer: string,
  ) {
    super(`${heading} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}${footer === '' ? '' : `\n${footer}`}`);
    this.name = 'InputError';
  }
}

/** Props a construct cannot build from. The configuration checks everything it can reach, so this means a caller passed props no configuration produces. */
export class PropsError extends InputError {
  constructor(construct: string, problems: readonly InputProblem[]) {
    super(
      `Invalid props of ${construct}`,
      problems.map((problem) => ({ ...problem, field: `${construct}.${problem.field}` })),
      problems.map((problem) => `  - ${construct}.${problem.field}: ${problem.message}`),
      '',
    );
    this.name = 'PropsError';
  }
}

/** Collects problems and throws them together, so a caller sees every one at once. */
export class PropsCheck {
  private readonly problems: InputProblem[] = [];

  constructor(private readonly construct: string) {}

  fail(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** Throws a `PropsError` listing every problem found, if any. */
  done(): void {
    if (this.problems.length > 0) throw new PropsError(this.construct, this.problems);
  }
}

/** The range of an integer setting, and its default when it has one (the configuration schema is built from these). */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}
