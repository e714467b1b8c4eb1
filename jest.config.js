const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // jest's default (one worker fewer than the cores) runs the suites one at a time on two
  // cores; much of their time is spent waiting on emulators, child processes and polls, so
  // more workers overlap that waiting. On two cores, the whole run with jest's cache empty,
  // alternately: 143 s and 155 s with four workers, 154 s and 157 s with three (three had
  // taken the drills, local, web and tools suites from 209 s to 179 s against two). Five
  // cores and more keep jest's default.
  maxWorkers: Math.max(4, availableParallelism() - 1),
  // Each test file leaves a little behind in its worker (modules, caches), so a worker that ran
  // half the suites holds 1.5-1.8 GB. Freeing a heap that large when the worker exits takes
  // V8 over half a second on a loaded machine, past the 500 ms jest waits before killing it
  // ("A worker process has failed to exit gracefully"). A worker past 1 GB after a file is
  // replaced by a fresh one instead: workers end the run under 1 GB, and the smaller heaps
  // also spend less time collecting garbage.
  workerIdleMemoryLimit: '1GB',
  roots: ['<rootDir>/__tests__'],
  // Long suites first when jest has not timed them yet (a fresh clone): see the sequencer.
  testSequencer: '<rootDir>/__tests__/sequencer.js',
  moduleNameMapper: {
    // cdktf records a full stack trace for every token it creates, and under jest each trace is
    // mapped frame by frame through the source maps of cdktf's files: a third of the CPU time of
    // the suites that synthesize (63 and 44 CPU-seconds for the stacks, policy, twin and plan
    // suites, in band, without and with this). The traces are only read in the error for a
    // token that fails to resolve, so the tests run cdktf and constructs without them.
    '^\\./(tokens/)?(private/)?stack-trace$': '<rootDir>/__tests__/no-creation-stack.js',
  },
  testMatch: ['**/*.test.ts'],
  transform: {
    // swc strips the types file by file, as tsconfig's `isolatedModules` allows; they are checked
    // once for the whole project by `npm run typecheck`, which `npm test` runs beside the suites
    // (__tests__/type-check.ts). With ts-jest transpiling instead, a run with jest's cache empty
    // took 162 s and 276 CPU-seconds, against 149 s and 248 with swc.
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' }],
  },
  // The Lambda handlers are bundled once per run, before the workers start, not once per test
  // file; under `npm test` the type check starts then too, and the teardown waits for it.
  globalSetup: '<rootDir>/__tests__/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup.ts'],
  testTimeout: 30000,
};
