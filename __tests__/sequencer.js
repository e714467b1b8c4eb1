/**
 * Jest's own order, except on a run with no timings on record (a fresh clone, a new cache).
 *
 * Jest runs the suites it has timed slowest first, so the workers finish together, and the
 * ones it has not timed by file size. Size is a poor guess here: the drills and the
 * end-to-end, browser and property suites are short files that take 10-60 s each (they
 * start a local platform, Chromium or thousands of generated cases), and by size they ran
 * last on a fresh clone, three workers queued behind them for the last half minute (Jest
 * 188 s against 151 s once timed, 2026-12-01). Untimed suites of those kinds go first, then
 * the short files that start processes.
 */
const { readFileSync } = require('node:fs');
const { default: DefaultSequencer } = require('@jest/test-sequencer');

/** Suites that start a whole platform, a browser or many generated cases: the drills (`verify/`) and `*.e2e`, `*.browser`, `*.property` suites. */
const LONG_SUITE = /[\\/]__tests__[\\/](verify[\\/].*|.*\.(e2e|browser|property))\.test\.ts$/;
/** Suites that run tools, a synth or terraform in child processes: several seconds each, short files too. */
const STARTS_PROCESSES = /from 'node:child_process'/;

/** Untimed: long suites first, then those that start processes, then the rest (each in jest's order). */
function untimedRank(test) {
  if (test.duration != null) return 2;
  if (LONG_SUITE.test(test.path)) return 0;
  return STARTS_PROCESSES.test(readFileSync(test.path, 'utf8')) ? 1 : 2;
}

class LongSuitesFirstSequencer extends DefaultSequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const ranks = new Map(ordered.map((test) => [test, untimedRank(test)]));
    return [0, 1, 2].flatMap((rank) => ordered.filter((test) => ranks.get(test) === rank));
  }
}

module.exports = LongSuitesFirstSequencer;
