/**
 * The archive contract: the lines the processor writes are the reference JSON of
 * `{series, thing_id, metric, ts, value}` for any reading the ingest contract accepts, and
 * the Firehose prefix puts an object where the partition columns say it is.
 */
import fc from 'fast-check';
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITIONS, FIREHOSE_PREFIX, archiveLine, archiveLines, archivePrefixAt, archiveTimestamp } from '../../handlers/archive-format';
import { parseReading } from '../../handlers/reading';
import { seriesId } from '../../handlers/reading-item';

/** Thing ids with what JSON must escape: quotes, backslashes, non-ASCII, and slashes. */
const thingId = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '/', '"', '\\', ' ', 'é', '漢', '😀', '-', '.'), minLength: 1, maxLength: 40 }).filter((id) => id.trim() !== '');
const metricName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/).filter((name) => name !== 'id' && name !== 'timestamp');
const metricValue = fc.oneof(fc.double({ min: -1e120, max: 1e120, noNaN: true }), fc.integer(), fc.constantFrom('19.57', '-0.001', '1e3', '0'));

describe('archiveLines', () => {
  it('writes, for any valid reading, exactly the JSON of each metric\'s line, in the contract\'s column order', () => {
    fc.assert(
      fc.property(thingId, fc.integer({ min: 0, max: 253402300799999 }), fc.dictionary(metricName, metricValue, { minKeys: 1, maxKeys: 8 }), (id, millis, metrics) => {
        const parsed = parseReading({ id, timestamp: millis, ...metrics });
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const reading = parsed.value;
        const lines = archiveLines(reading);
        expect(lines).toEqual(
          [...reading.metrics].map(([metric, value]) => archiveLine({ series: seriesId(reading.id, metric), thing_id: reading.id, metric, ts: archiveTimestamp(reading.timestamp), value: value.approx })),
        );
        for (const line of lines) expect(Object.keys(JSON.parse(line) as object)).toEqual(ARCHIVE_COLUMNS.map((column) => column.name));
      }),
      { numRuns: 500 },
    );
  });

  it('writes the time as UTC `yyyy-MM-dd HH:mm:ss.ffffff`', () => {
    const parsed = parseReading({ id: 'a', timestamp: '2016-09-09T14:33:07.381019+01:00', t: 1 });
    expect(parsed.ok && archiveTimestamp(parsed.value.timestamp)).toBe('2016-09-09 13:33:07.381019');
  });
});

describe('partition layout', () => {
  it('names the partitions as Firehose\'s prefix does, in order, zero-padded (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)', () => {
    expect(FIREHOSE_PREFIX).toBe('readings/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/');
    expect(ARCHIVE_PARTITIONS.map((partition) => partition.name)).toEqual(['year', 'month', 'day', 'hour']);
    expect(archivePrefixAt(new Date(Date.UTC(2027, 0, 2, 3, 59, 59)))).toBe('readings/year=2027/month=01/day=02/hour=03/');
  });
});
