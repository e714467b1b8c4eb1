import { summaryTable } from '../../verify/main';
import type { DrillResult } from '../../verify/drill';

const drill = (name: string, ok: boolean, readings?: DrillResult['readings']): DrillResult => ({
  drill: name,
  checks: [{ name: 'holds', ok, detail: '' }],
  ...(readings === undefined ? {} : { readings }),
  durationMs: 1_000,
});
const policy = { stacks: [], total: { rulesChecked: 42, resourcesInspected: 160, violations: 0, suppressions: 0 }, violations: [], suppressions: [], durationMs: 1 };
const row = (table: string, promise: string) => table.split('\n').find((line) => line.includes(promise)) ?? '';

describe('npm run verify summary', () => {
  it('adds up the readings of every drill and says ok when each record was stored or queued', () => {
    const table = summaryTable(policy, [drill('a', true, { sent: 1_060, stored: 1_000, failureQueue: 60 }), drill('b', true, { sent: 5, stored: 5, failureQueue: 0 })]);
    expect(row(table, 'readings sent')).toMatch(/1,065 \/ 1,005 \/ 60 .*ok/);
    expect(row(table, 'drills run')).toMatch(/2 \/ 2 .*ok/);
    expect(row(table, 'policy rules')).toMatch(/42 rules on 160 resources \/ 0 violations .*ok/);
  });

  it('fails the readings row when a drill lost a record, and the drills row when a check failed', () => {
    const table = summaryTable(policy, [drill('a', false, { sent: 10, stored: 9, failureQueue: 0 })]);
    expect(row(table, 'readings sent')).toMatch(/FAILED/);
    expect(row(table, 'drills run')).toMatch(/1 \/ 0 .*FAILED/);
  });

  it('fails the policy row on a violation', () => {
    expect(row(summaryTable({ ...policy, total: { ...policy.total, violations: 2 } }, []), 'policy rules')).toMatch(/FAILED/);
  });
});
