import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidArgumentError } from 'commander';
import { Decimal } from '../../handlers/decimal';
import { decodeNotice, encodeNotice } from '../../handlers/notice-item';
import { boundOption, thresholdsProgram } from '../../tools/thresholds';
import { deleteThresholds, getThresholds, listThresholds, setThresholds, thresholdProblems } from '../../tools/threshold-store';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';

const SERIES = 'things/harrow/001/temperature';
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

describe('thresholds', () => {
  let db: DynaliteHarness;
  const table = () => db.tables.thresholds;

  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  it('sets both bounds as numbers and keeps the alert state beside them', async () => {
    await db.document.send(new PutCommand({ TableName: table(), Item: { ThingID: SERIES, MinThreshold: 10, AlertState: 'breached' } }));
    await setThresholds(db.exact, table(), SERIES, { min: 18, max: n(25) });
    expect(await getThresholds(db.exact, table(), SERIES)).toEqual({ series: SERIES, min: n(18), max: n(25), state: { AlertState: 'breached' } });
  });

  it('keeps every digit of a bound (the consumer compares values with it exactly)', async () => {
    await setThresholds(db.exact, table(), 'things/exact/001/t', { max: n('25.000000000000000000000000000001') });
    expect((await getThresholds(db.exact, table(), 'things/exact/001/t'))?.max?.text).toBe('25.000000000000000000000000000001');
  });

  it('removes a bound that is not given', async () => {
    await setThresholds(db.exact, table(), SERIES, { max: 30 });
    expect(await getThresholds(db.exact, table(), SERIES)).toMatchObject({ series: SERIES, max: n(30) });
    expect((await getThresholds(db.exact, table(), SERIES))?.min).toBeUndefined();
  });

  it("reads the 2016 report's string bounds too", async () => {
    await db.document.send(new PutCommand({ TableName: table(), Item: { ThingID: 'things/seed/001/temperature', MinThreshold: '18', MaxThreshold: '25' } }));
    expect(await getThresholds(db.exact, table(), 'things/seed/001/temperature')).toMatchObject({ min: n(18), max: n(25) });
  });

  it('lists every series with thresholds, sorted', async () => {
    const listed = await listThresholds(db.exact, table());
    expect(listed.map((entry) => entry.series)).toEqual(['things/exact/001/t', 'things/harrow/001/temperature', 'things/seed/001/temperature']);
  });

  it('deletes and says whether there was anything', async () => {
    expect(await deleteThresholds(db.exact, table(), 'things/seed/001/temperature')).toBe(true);
    expect(await deleteThresholds(db.exact, table(), 'things/seed/001/temperature')).toBe(false);
  });

  it('deleting a rule resolves the alerts it had open, so the fleet list stops showing them firing', async () => {
    const series = 'things/deleted/001/temperature';
    const openedAt = '2026-11-30T10:00:00.000000Z';
    const opening = encodeNotice({ series, notice: 'breach', at: openedAt, claimToken: 't', messageId: 'm', subject: 's', sentAt: openedAt, recipients: 'default', opens: 'breach' }, openedAt);
    await db.document.send(new PutCommand({ TableName: db.tables.alerts, Item: opening }));
    await db.document.send(new PutCommand({ TableName: table(), Item: { ThingID: series, MaxThreshold: 25, AlertState: 'breached', AlertBound: 'max', AlertOpenedAt: openedAt } }));
    expect(decodeNotice(opening).alert?.state).toBe('firing');
    expect(await deleteThresholds(db.exact, table(), series, db.tables.alerts)).toBe(true);
    const { Item } = await db.document.send(new GetCommand({ TableName: db.tables.alerts, Key: { ThingID: series, Timestamp: openedAt } }));
    expect(decodeNotice(Item ?? {}).alert).toMatchObject({ kind: 'breach', state: 'resolved', resolvedAt: expect.any(String) });
  });

  it.each([
    ['no metric', 'things', { min: 1 }, /must be "<thing id>\/<metric>"/],
    ['a metric name readings cannot have', 'things/harrow/001/1st', { min: 1 }, /must be "<thing id>\/<metric>"/],
    ['a thing id readings cannot have', 'things/\u0007bell/t', { min: 1 }, /the thing id of series .* is not one readings can have/],
    ['an emoji thing id', 'things/😀/t', { min: 1 }, /is not one readings can have/],
    ['no bound', SERIES, {}, /give --min, --max or both/],
    ['min above max', SERIES, { min: 30, max: 20 }, /--min 30 is above --max 20/],
    ['min above max by 1e-30', SERIES, { min: n('20.000000000000000000000000000001'), max: n(20) }, /--min 20.000000000000000000000000000001 is above --max 20/],
    ['an infinite bound', SERIES, { max: Infinity }, /--max must be a finite number/],
    ['a bound below what DynamoDB holds', SERIES, { max: 1e-200 }, /--max 1e-200 cannot be stored: its magnitude is below 1e-130/],
  ])('refuses %s', async (_name, series, bounds, message) => {
    expect(thresholdProblems(series, bounds).join('; ')).toMatch(message);
    await expect(setThresholds(db.exact, table(), series, bounds)).rejects.toThrow(message);
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

    it('sets and shows a bound with every digit, in text and JSON', async () => {
      expect((await run('set', 'things/cli/004/t', '--max', '12345678901234567890.123456789012345678'))[0]).toContain('max 12345678901234567890.123456789012345678');
      expect((await run('--json', 'get', 'things/cli/004/t'))[0]).toContain('"max":12345678901234567890.123456789012345678');
    });

    it('refuses a contradictory range before touching the table', async () => {
      await expect(run('set', 'things/cli/002/t', '--min', '5', '--max', '1')).rejects.toThrow('--min 5 is above --max 1');
      expect(await getThresholds(db.exact, table(), 'things/cli/002/t')).toBeUndefined();
    });

    it.each([
      ['cold', /write a decimal number such as 18/],
      ['0x10', /write a decimal number such as 18, -2\.5 or 1\.5e3 \(no spaces, no hexadecimal\)/],
      [' 12 ', /no spaces/],
      ['1e-200', /its magnitude is below 1e-130/],
      ['1e126', /1e126 or more/],
      ['1.000000000000000000000000000000000000001', /more than 38 significant digits/],
    ])('refuses the bound %p with a reason, before touching the table', async (text, reason) => {
      await expect(run('set', 'things/cli/003/t', '--max', text)).rejects.toThrow(`option '--max <number>' argument '${text}' is invalid`);
      expect(() => boundOption(text)).toThrow(InvalidArgumentError);
      expect(() => boundOption(text)).toThrow(reason);
      expect(await getThresholds(db.exact, table(), 'things/cli/003/t')).toBeUndefined();
    });

    it('sets and shows the rule fields beside the range, and removes those not given again', async () => {
      const series = 'things/cli/005/temperature';
      const flags = ['--min', '18', '--max', '25', '--for', '120', '--hysteresis', '0.5', '--no-data-after', '600', '--recipients', 'plant-7'];
      expect((await run('set', series, ...flags))[0]).toContain(`${series}: min 18  max 25  for 120 s  hysteresis 0.5  no data after 600 s  recipients plant-7`);
      expect(await getThresholds(db.exact, table(), series)).toEqual({ series, min: n(18), max: n(25), forSeconds: 120, hysteresis: n('0.5'), noDataAfterSeconds: 600, recipients: 'plant-7', state: {} });
      await run('set', series, '--no-data-after', '60');
      expect(await getThresholds(db.exact, table(), series)).toEqual({ series, noDataAfterSeconds: 60, state: {} });
    });

    it.each([
      [['--max', '25', '--for', '1.5'], /option '--for <seconds>' argument '1.5' is invalid/],
      [['--max', '25', '--for', '90000'], /--for must be a whole number of seconds from 0 to 86400, got 90000/],
      [['--min', '0', '--max', '1', '--hysteresis', '0.5'], /--hysteresis 0.5 leaves no room to recover/],
      [['--no-data-after', '0'], /--no-data-after must be a whole number of seconds from 1 to 2592000/],
      [['--max', '25', '--recipients', 'Plant 7'], /--recipients must name a recipient group/],
      [['--for', '60'], /give --min, --max or both, or --no-data-after/],
    ])('refuses %j before touching the table', async (flags, message) => {
      await expect(run('set', 'things/cli/006/t', ...flags)).rejects.toThrow(message);
      expect(await getThresholds(db.exact, table(), 'things/cli/006/t')).toBeUndefined();
    });

    it('refuses a series id the readings could never have', async () => {
      await expect(run('set', 'things/\u0007/t', '--max', '1')).rejects.toThrow(/is not one readings can have/);
    });
  });
});
