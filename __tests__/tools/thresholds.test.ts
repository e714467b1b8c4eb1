import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { thresholdsProgram } from '../../tools/thresholds';
import { deleteThresholds, getThresholds, listThresholds, setThresholds, thresholdProblems } from '../../tools/threshold-store';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';

const SERIES = 'things/harrow/001/temperature';

describe('thresholds', () => {
  let db: DynaliteHarness;
  const table = () => db.tables.thresholds;

  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  it('sets both bounds as numbers and keeps the alert state beside them', async () => {
    await db.document.send(new PutCommand({ TableName: table(), Item: { ThingID: SERIES, MinThreshold: 10, AlertState: 'breached' } }));
    await setThresholds(db.document, table(), SERIES, { min: 18, max: 25 });
    expect(await getThresholds(db.document, table(), SERIES)).toEqual({ series: SERIES, min: 18, max: 25, state: { AlertState: 'breached' } });
  });

  it('removes a bound that is not given', async () => {
    await setThresholds(db.document, table(), SERIES, { max: 30 });
    expect(await getThresholds(db.document, table(), SERIES)).toMatchObject({ series: SERIES, max: 30 });
    expect((await getThresholds(db.document, table(), SERIES))?.min).toBeUndefined();
  });

  it("reads the seed's string bounds too", async () => {
    await db.document.send(new PutCommand({ TableName: table(), Item: { ThingID: 'things/seed/001/temperature', MinThreshold: '18', MaxThreshold: '25' } }));
    expect(await getThresholds(db.document, table(), 'things/seed/001/temperature')).toMatchObject({ min: 18, max: 25 });
  });

  it('lists every series with thresholds, sorted', async () => {
    const listed = await listThresholds(db.document, table());
    expect(listed.map((entry) => entry.series)).toEqual(['things/harrow/001/temperature', 'things/seed/001/temperature']);
  });

  it('deletes and says whether there was anything', async () => {
    expect(await deleteThresholds(db.document, table(), 'things/seed/001/temperature')).toBe(true);
    expect(await deleteThresholds(db.document, table(), 'things/seed/001/temperature')).toBe(false);
  });

  it.each([
    ['no metric', 'things', { min: 1 }, /must be "<thing id>\/<metric>"/],
    ['no bound', SERIES, {}, /give --min, --max or both/],
    ['min above max', SERIES, { min: 30, max: 20 }, /--min 30 is above --max 20/],
    ['an infinite bound', SERIES, { max: Infinity }, /--max must be a number/],
  ])('refuses %s', async (_name, series, bounds, message) => {
    expect(thresholdProblems(series, bounds).join('; ')).toMatch(message);
    await expect(setThresholds(db.document, table(), series, bounds)).rejects.toThrow(message);
  });

  describe('command line', () => {
    const run = async (...args: string[]) => {
      const lines: string[] = [];
      const program = thresholdsProgram((line) => lines.push(line));
      // Parse errors throw instead of exiting the test process, and print nothing.
      for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: () => undefined });
      await program.parseAsync(['node', 'thresholds', ...args, '--dynamodb-endpoint', db.endpoint], { from: 'node' });
      return lines;
    };
    afterEach(() => {
      process.exitCode = undefined;
    });

    it('sets, gets, lists and deletes', async () => {
      expect((await run('set', 'things/cli/001/humidity', '--min', '30', '--max', '60'))[0]).toContain('things/cli/001/humidity: min 30  max 60');
      expect(JSON.parse((await run('--json', 'get', 'things/cli/001/humidity'))[0] as string)).toMatchObject({ series: 'things/cli/001/humidity', min: 30, max: 60 });
      expect((await run('list')).some((line) => line.startsWith('things/cli/001/humidity'))).toBe(true);
      expect(await run('delete', 'things/cli/001/humidity')).toEqual(['Deleted the thresholds of things/cli/001/humidity.']);
      expect(await run('get', 'things/cli/001/humidity')).toEqual(['things/cli/001/humidity has no thresholds (no alerts are sent for it)']);
      expect(process.exitCode).toBe(1);
    });

    it('refuses a contradictory range before touching the table', async () => {
      await expect(run('set', 'things/cli/002/t', '--min', '5', '--max', '1')).rejects.toThrow('--min 5 is above --max 1');
      expect(await getThresholds(db.document, table(), 'things/cli/002/t')).toBeUndefined();
    });

    it('refuses a bound that is not a number', async () => {
      await expect(run('set', 'things/cli/003/t', '--min', 'cold')).rejects.toThrow(/a number such as 18/);
    });
  });
});
