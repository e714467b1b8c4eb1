import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expectedNotices } from '../../handlers/alert-rules';
import { Decimal } from '../../handlers/decimal';
import { formatReport, testTemperatures, type SystemTestReport } from '../../tools/system-test';
import { seededRandom } from '../../tools/synthetic';
import { PROJECT_ROOT } from '../../build/project-root';

const at = (second: number) => `2024-01-01T00:00:${String(second).padStart(2, '0')}.000000Z`;

describe('system test', () => {
  it("draws values like the 2016 report's and makes sure a run always has a breach and a recovery", () => {
    for (let seed = 0; seed < 50; seed += 1) {
      const values = testTemperatures(10, seededRandom(seed), 18, 25).map(Number);
      expect(values.some((value) => value < 18 || value > 25)).toBe(true);
      const exact = (value: number) => Decimal.fromNumber(value) as Decimal;
      const alerts = expectedNotices({ min: exact(18), max: exact(25) }, values.map((value, index) => ({ value: exact(value), timestamp: at(index) })), 900);
      expect(alerts.some((alert) => alert.kind === 'breach')).toBe(true);
      expect(alerts.some((alert) => alert.kind === 'recovery')).toBe(true);
      expect(values.every((value) => /^-?\d+\.\d{1,2}$/.test(String(value)) || Number.isInteger(value))).toBe(true);
    }
  });

  it('reports each check and the overall result', () => {
    const report: SystemTestReport = {
      ok: false,
      target: 'the local platform',
      thingId: 'things/system-test/x',
      series: 'things/system-test/x/temperature',
      readings: [],
      expectedAlerts: [],
      checks: [
        { name: 'API accepted all 10 readings', ok: true },
        { name: 'every reading in table iot-things', ok: false, detail: 'missing 19.5 at 2024-01-01T00:00:00.000000Z' },
      ],
      waitedMs: 2500,
      removedItems: 12,
    };
    const text = formatReport(report);
    expect(text).toContain('  PASS  API accepted all 10 readings');
    expect(text).toContain('  FAIL  every reading in table iot-things\n        missing 19.5 at 2024-01-01T00:00:00.000000Z');
    expect(text).toContain('RESULT: FAIL (1 of 2 checks passed; pipeline visible after 2.5 s; removed the 12 items it wrote)');
  });
});

describe('system-test command line', () => {
  it('refuses a no-data period the rules do not take before writing anything', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'system-test.ts'), '--no-data-after', '0', '--api-url', 'http://127.0.0.1:1/prod/thingsstream', '--api-key', 'k', '--web-url', 'http://127.0.0.1:2', '--dynamodb-endpoint', 'http://127.0.0.1:3', '--cooldown-seconds', '900'],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--no-data-after must be from 1 to 2592000 seconds, got 0/);
  });

  it('refuses to guess the alert cooldown when the platform configuration is invalid, naming the bad field', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'system-test.ts'), '--api-url', 'http://127.0.0.1:1/prod/thingsstream', '--api-key', 'k', '--web-url', 'http://127.0.0.1:2', '--dynamodb-endpoint', 'http://127.0.0.1:3'],
      { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, PLATFORM_STREAM_SHARD_COUNT: 'abc' } },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/platform configuration, which is invalid; fix it or pass --cooldown-seconds/);
    expect(run.stderr).toMatch(/stream\.shardCount \(from PLATFORM_STREAM_SHARD_COUNT\)/);
  });
});
