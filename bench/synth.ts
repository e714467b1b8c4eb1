/**
 * `npm run bench:synth`: wall time and peak memory of the full synth (handler bundling
 * included, as `npm run synth` does it) next to an empty cdktf app, each in its own Node
 * process started the same way, alternating, in the same run. The full synth runs twice
 * per round: cold (bundle cache removed, so esbuild bundles both handlers) and warm
 * (bundles reused because no input changed, the usual case). Prints medians, peaks and
 * the ratios against the target (2.5x on both).
 *
 * Peak memory is the maximum resident set of the synth's Node process (from
 * process.resourceUsage at exit); esbuild's service process is not counted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../build/project-root';

/** Where synth keeps the handler bundles and their build records (stacks/pipeline-stack.ts). */
const BUNDLE_DIR = path.join(PROJECT_ROOT, 'dist', 'handlers');
const TARGET_RATIO = 2.5;
const runs = Number(process.env.BENCH_RUNS ?? 3);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS must be a whole number of at least 1, got ${process.env.BENCH_RUNS}`);

const scratch = mkdtempSync(path.join(tmpdir(), 'bench-synth-'));
const usageReporter = path.join(scratch, 'report-usage.cjs');
writeFileSync(
  usageReporter,
  "process.on('exit', () => require('node:fs').writeFileSync(process.env.BENCH_USAGE_FILE, String(process.resourceUsage().maxRSS)));\n",
);

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
}

function measure(label: string, args: string[], index: number): Measurement {
  const usageFile = path.join(scratch, `${label}-${index}.usage`);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--require', usageReporter, '--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status}):\n${result.stderr}`);
  return { seconds, peakMiB: Number(readFileSync(usageFile, 'utf8')) / 1024 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const series = { empty: [] as Measurement[], cold: [] as Measurement[], warm: [] as Measurement[] };
try {
  for (let index = 0; index < runs; index++) {
    series.empty.push(measure('empty', ['bench/empty-app.ts', path.join(scratch, `empty-out-${index}`)], index));
    rmSync(BUNDLE_DIR, { recursive: true, force: true });
    series.cold.push(measure('cold', ['main.ts'], index));
    series.warm.push(measure('warm', ['main.ts'], index));
    const [empty, cold, warm] = [series.empty, series.cold, series.warm].map((measurements) => measurements[index]!.seconds.toFixed(2));
    console.log(`run ${index + 1}/${runs}: empty ${empty} s, full cold ${cold} s, full warm ${warm} s`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const seconds = (measurements: Measurement[]) => median(measurements.map((m) => m.seconds));
const peak = (measurements: Measurement[]) => Math.max(...measurements.map((m) => m.peakMiB));
const row = (measure: string, empty: number, full: number) => {
  const ratio = full / empty;
  return { measure, 'empty app': empty.toFixed(2), 'full synth': full.toFixed(2), ratio: `${ratio.toFixed(2)}x`, [`target <= ${TARGET_RATIO}x`]: ratio <= TARGET_RATIO ? 'met' : 'MISSED' };
};
console.log(`\nfull synth (3 stacks + handler bundles) vs empty cdktf app, ${runs} run(s) each, Node ${process.version}:`);
console.table([
  row('wall s, median, warm bundles', seconds(series.empty), seconds(series.warm)),
  row('wall s, median, cold bundles', seconds(series.empty), seconds(series.cold)),
  row('peak RSS MiB, max, warm', peak(series.empty), peak(series.warm)),
  row('peak RSS MiB, max, cold', peak(series.empty), peak(series.cold)),
]);
