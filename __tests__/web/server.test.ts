/** The process entry (`npm run web`) refuses to start on a bad configuration, naming every problem. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../build/project-root';

test('exits with status 2 and lists every missing or malformed variable', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'web', 'server.ts')], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, PORT: 'eighty', THRESHOLDS_TABLE: 'iot-thresholds' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('The web app cannot start; fix these environment variables:');
  for (const problem of ['THINGS_TABLE is missing', 'ALERTS_TABLE is missing', 'PORT must be a TCP port', 'AWS_REGION is missing']) {
    expect(result.stderr).toContain(problem);
  }
  expect(result.stderr).not.toContain('THRESHOLDS_TABLE');
  expect(result.stderr).not.toMatch(/\n\s+at /); // a message for a person, not a stack trace
});
