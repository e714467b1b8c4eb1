/**
 * Jest's own order, except on a run with no timings on record (a fresh clone, a new cache).
 *
 * Jest runs the suites it has timed slowest first, so the workers finish together, and the
 * ones it has not timed by file size. Size is a poor guess here: the drills and the
 * end-to-end, browser and property suites are short files that take 10-60 s each (they
 * start a local platform, Chromium or thousands of generated cases), and by size they ran
 * last on a fresh clone, three workers queued behind them for the last half minute (Jest
 * 188 s against 151 s once timed, 2026-12-01). Untimed suites of those kinds go first.
 */
const { default: DefaultSequencer } = require('@jest/test-sequencer');

/** Suites that start a whole platform, a browser or many generated cases: the drills (`verify/`) and `*.e2e`, `*.browser`, `*.property` suites. */
const LONG_SUITE = /[\\/]__tests__[\\/](verify[\\/].*|.*\.(e2e|browser|property))\.test\.ts$/;

class LongSuitesFirstSequencer extends DefaultSequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const untimedLong = (test) => test.duration == null && LONG_SUITE.test(test.path);
    return [...ordered.filter(untimedLong), ...ordered.filter((test) => !untimedLong(test))];
  }
}

module.exports = LongSuitesFirstSequencer;
