/**
 * The archive's Firehose processor, against Firehose's transformation contract:
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
 * (every record back with its recordId, a result and base64 data) and
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html
 * (ProcessingFailed records go to the error prefix, so they are returned unchanged).
 */
import type { FirehoseTransformationEvent, FirehoseTransformationResultRecord } from 'aws-lambda';
import { ARCHIVE_COLUMNS } from '../../handlers/archive-format';
import { flattenRecords, handler, logger } from '../../handlers/archive-flatten';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function firehoseEvent(payloads: readonly (object | string)[]): FirehoseTransformationEvent {
  return {
    invocationId: 'invocation-1',
    deliveryStreamArn: 'arn:aws:firehose:eu-west-2:123456789012:deliverystream/iot-archive',
    sourceKinesisStreamArn: 'arn:aws:kinesis:eu-west-2:123456789012:stream/iot-readings',
    region: 'eu-west-2',
    records: payloads.map((payload, index) => ({
      recordId: `49590338271490256608559692538361571095921575989136588898-${index}`,
      approximateArrivalTimestamp: 1_780_000_000_000 + index,
      data: typeof payload === 'string' ? payload : b64(JSON.stringify(payload)),
    })),
  };
}

/** The JSON lines an Ok record carries. */
const linesOf = (record: FirehoseTransformationResultRecord) => Buffer.from(record.data!, 'base64').toString('utf8').split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('flattenRecords', () => {
  it('turns one reading into one line per metric, in the sender\'s order, with the exact ids, UTC time and numeric values', () => {
    const event = firehoseEvent([{ id: 'things/harrow/001', timestamp: '2016-09-09T14:33:07.381019+01:00', temperature: '19.57', humidity: 40 }]);
    const { response, failed, lines } = flattenRecords(event);
    expect(failed).toEqual([]);
    expect(lines).toBe(2);
    const [record] = response.records;
    expect(record).toMatchObject({ recordId: event.records[0]!.recordId, result: 'Ok' });
    const text = Buffer.from(record!.data!, 'base64').toString('utf8');
    // No trailing newline: Firehose's AppendDelimiterToRecord adds it.
    expect(text).toBe(
      '{"series":"things/harrow/001/temperature","thing_id":"things/harrow/001","metric":"temperature","ts":"2016-09-09 13:33:07.381019","value":19.57}\n' +
        '{"series":"things/harrow/001/humidity","thing_id":"things/harrow/001","metric":"humidity","ts":"2016-09-09 13:33:07.381019","value":40}',
    );
    expect(Object.keys(linesOf(record!)[0]!)).toEqual(ARCHIVE_COLUMNS.map((column) => column.name));
  });

  it('accepts a record holding an array of readings (as the batch endpoint packs them), every reading\'s lines in order', () => {
    const readings = [
      { id: 'a', timestamp: 1_473_428_000_123, t: 1 },
      { id: 'b', timestamp: '2016-09-09 13:33:07', t: -2.5, u: '1e3' },
      { id: 'a', timestamp: '2016-09-09T13:33:08Z', t: 3 },
    ];
    const { response, failed, lines } = flattenRecords(firehoseEvent([readings]));
    expect(failed).toEqual([]);
    expect(lines).toBe(4);
    expect(linesOf(response.records[0]!)).toEqual([
      { series: 'a/t', thing_id: 'a', metric: 't', ts: '2016-09-09 13:33:20.123000', value: 1 },
      { series: 'b/t', thing_id: 'b', metric: 't', ts: '2016-09-09 13:33:07.000000', value: -2.5 },
      { series: 'b/u', thing_id: 'b', metric: 'u', ts: '2016-09-09 13:33:07.000000', value: 1000 },
      { series: 'a/t', thing_id: 'a', metric: 't', ts: '2016-09-09 13:33:08.000000', value: 3 },
    ]);
  });

  it('keeps every digit of a JSON number inside a packed record, as for a record of one reading', () => {
    const text = '[{"id":"a","timestamp":"2016-09-09T13:33:07Z","t":0.10000000000000000001}, {"id":"b","timestamp":"2016-09-09T13:33:07Z","t":12345678901234567890123}]';
    const { response } = flattenRecords(firehoseEvent([b64(text)]));
    const lineTexts = Buffer.from(response.records[0]!.data!, 'base64').toString('utf8').split('\n');
    expect(lineTexts.map((line) => /"value":([^}]*)/.exec(line)?.[1])).toEqual(['0.10000000000000000001', '1.2345678901234567890123e+22']);
  });

  it('returns every record that is not a valid reading as ProcessingFailed with its data unchanged, saying why', () => {
    const good = { id: 'things/1', timestamp: '2026-11-30T18:00:00Z', t: 1 };
    const notBase64 = '%%% not base64 %%%';
    const notUtf8 = Buffer.from([0xff, 0xfe, 0x7b]).toString('base64');
    const event = firehoseEvent([
      good,
      notBase64,
      notUtf8,
      b64('{"id": "x", '),
      { timestamp: '2026-11-30T18:00:00Z', t: 1 },
      [good, { id: 'things/2', timestamp: '2026-02-30T00:00:00Z', t: 1 }],
      [],
      { id: 'things/3', timestamp: '2026-11-30T18:00:00Z' },
      good,
    ]);
    const { response, failed } = flattenRecords(event);
    // Same records, same order, same ids.
    expect(response.records.map((record) => record.recordId)).toEqual(event.records.map((record) => record.recordId));
    expect(response.records.map((record) => record.result)).toEqual(['Ok', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'Ok']);
    for (const [index, record] of response.records.entries()) {
      if (record.result === 'ProcessingFailed') expect(record.data).toBe(event.records[index]!.data);
    }
    expect(failed.map((failure) => failure.reason)).toEqual([
      expect.stringMatching(/not valid base64/),
      expect.stringMatching(/not UTF-8/),
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/no "id"/),
      expect.stringMatching(/^reading \[1\]: .*does not exist in the calendar/),
      expect.stringMatching(/empty array/),
      expect.stringMatching(/no metric/),
    ]);
    expect(failed.map((failure) => failure.recordId)).toEqual(response.records.filter((record) => record.result === 'ProcessingFailed').map((record) => record.recordId));
  });

  it('keeps the response within its budget, failing (not losing) the records that would pass it', () => {
    const reading = (index: number) => ({ id: `things/harrow/${index}`, timestamp: '2026-11-30T18:00:00Z', a: 1, b: 2, c: 3, d: 4 });
    const event = firehoseEvent(Array.from({ length: 40 }, (_, index) => reading(index)));
    const budget = 12_000;
    const { response, failed } = flattenRecords(event, budget);
    const ok = response.records.filter((record) => record.result === 'Ok');
    expect(ok.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(JSON.stringify(response).length).toBeLessThanOrEqual(budget);
    // The records that fit come first; the rest are returned whole.
    expect(response.records.slice(0, ok.length).every((record) => record.result === 'Ok')).toBe(true);
    expect(failed[0]!.reason).toMatch(/past 12000 bytes/);
    for (const record of response.records.slice(ok.length)) expect(record.data).toBe(event.records.find((input) => input.recordId === record.recordId)!.data);
    // With the default budget (sized for Firehose's 1 MB buffer) all of them fit.
    expect(flattenRecords(event).failed).toEqual([]);
  });

  it('fits a full 1 MB Firehose buffer of typical readings in the default budget', () => {
    const reading = (index: number) => ({ id: `things/harrow/${String(index % 100).padStart(3, '0')}`, timestamp: new Date(Date.UTC(2026, 10, 30) + index).toISOString(), temperature: '19.57', humidity: '40.2' });
    const payloads: object[] = [];
    for (let size = 0, index = 0; size < 1024 * 1024; index++) {
      payloads.push(reading(index));
      size += JSON.stringify(reading(index)).length;
    }
    const { response, failed } = flattenRecords(firehoseEvent(payloads));
    expect(failed).toEqual([]);
    // Lambda's synchronous response limit is 6 MB.
    expect(JSON.stringify(response).length).toBeLessThan(6 * 1024 * 1024);
  });
});

describe('handler', () => {
  it('answers as flattenRecords does and logs the failed records for the processor\'s metric filter', async () => {
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const event = firehoseEvent([{ id: 'a', timestamp: 0, t: 1 }, 'not base64 !', b64('[]')]);
      const response = await handler(event);
      expect(response).toEqual(flattenRecords(event).response);
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![1]).toMatchObject({ failedRecords: 2, records: 3 });
      await handler(firehoseEvent([{ id: 'a', timestamp: 0, t: 1 }]));
      expect(error).toHaveBeenCalledTimes(1);
    } finally {
      error.mockRestore();
    }
  });
});
