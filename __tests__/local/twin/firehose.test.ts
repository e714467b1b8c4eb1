/**
 * The local Firehose delivery stream: keys as AWS names them, buffering by size and by
 * interval, the newline delimiter processor, GZIP objects, reading from LATEST, and no
 * record lost or written twice across a stop.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'fflate';
import { CheckpointStore } from '../../../local/checkpoints';
import { deliverySettings, deliveryStreamVersion, FIREHOSE_BUFFER_DEFAULTS } from '../../../local/twin/delivery-streams';
import { startDeliveryStream, type DeliveryStream, type DeliveryStreamOptions } from '../../../local/twin/firehose';
import { checkPrefixes, evaluatePrefix, formatTimestamp, objectName, PrefixError } from '../../../local/twin/firehose-prefix';
import { deliveryStreamOptions, startKinesis, waitFor, type KinesisHarness } from '../harness';

const AT = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 123));

describe('Firehose prefixes and object names (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)', () => {
  it('formats Java DateTimeFormatter patterns, quoted text included (https://docs.oracle.com/javase/8/docs/api/java/time/format/DateTimeFormatter.html)', () => {
    expect(formatTimestamp('yyyy/MM/dd/HH/', AT)).toBe('2024/03/05/07/');
    expect(formatTimestamp("yyyy'-'MM'-'dd", AT)).toBe('2024-03-05');
    expect(formatTimestamp("'year='yy' month='M' day='d", AT)).toBe('year=24 month=3 day=5');
    expect(formatTimestamp("HH:mm:ss.SSS a EEE MMM ''", AT)).toBe("07:08:09.123 AM Tue Mar '");
    expect(formatTimestamp('MMMM EEEE hh', AT)).toBe('March Tuesday 07');
    expect(() => formatTimestamp('yyyy-QQ', AT)).toThrow(PrefixError);
    expect(() => formatTimestamp("yyyy'", AT)).toThrow(/unterminated quote/);
  });

  it('evaluates timestamps in the custom time zone (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html)', () => {
    expect(formatTimestamp('yyyy-MM-dd HH', AT, 'Asia/Tokyo')).toBe('2024-03-05 16');
    expect(formatTimestamp('yyyy-MM-dd HH', new Date(Date.UTC(2024, 11, 31, 20)), 'Asia/Tokyo')).toBe('2025-01-01 05');
  });

  it('uses one instant for every timestamp in a prefix, and a new random string for every occurrence', () => {
    const evaluated = evaluatePrefix('a/!{timestamp:yyyy}/!{firehose:random-string}/!{timestamp:HH}/!{firehose:random-string}/', { instant: AT });
    const [, year, first, hour, second] = evaluated.split('/');
    expect([year, hour]).toEqual(['2024', '07']);
    expect(first).toMatch(/^[A-Za-z0-9]{11}$/);
    expect(second).toMatch(/^[A-Za-z0-9]{11}$/);
    expect(first).not.toBe(second);
    expect(evaluatePrefix('errors/!{firehose:error-output-type}/', { instant: AT, errorOutputType: 'processing-failed' })).toBe('errors/processing-failed/');
  });

  it('defaults the prefix to yyyy/MM/dd/HH/ and appends it, with no slash added, to a prefix without a timestamp', () => {
    expect(checkPrefixes(undefined, undefined).prefix).toBe('!{timestamp:yyyy/MM/dd/HH/}');
    expect(checkPrefixes('raw', undefined).prefix).toBe('raw!{timestamp:yyyy/MM/dd/HH/}');
    expect(checkPrefixes('raw/!{timestamp:yyyy}/', 'err/!{firehose:error-output-type}/').prefix).toBe('raw/!{timestamp:yyyy}/');
  });

  it("applies AWS's rules to the error prefix", () => {
    expect(() => checkPrefixes('raw/!{timestamp:yyyy}/', undefined)).toThrow(/error_output_prefix must be given/);
    expect(() => checkPrefixes('raw/', 'err/!{timestamp:yyyy}/')).toThrow(/must contain !\{firehose:error-output-type\}/);
    expect(() => checkPrefixes('raw/!{firehose:error-output-type}/', 'err/!{firehose:error-output-type}/')).toThrow(/only be used in error_output_prefix/);
    expect(() => checkPrefixes('raw/!{partitionKeyFromQuery:id}/', 'e/!{firehose:error-output-type}/')).toThrow(/not supported locally/);
    expect(checkPrefixes('raw/', 'err/!{firehose:error-output-type}/').errorPrefix).toBe('err/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}');
  });

  it('names objects <stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><extension>', () => {
    expect(objectName('iot-archive', 3, AT, '.jsonl.gz')).toMatch(/^iot-archive-3-2024-03-05-07-08-09-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl\.gz$/);
  });
});

describe("a delivery stream's local settings, from its resource", () => {
  const resource = (destination: Record<string, unknown>) => ({
    mode: 'managed' as const,
    type: 'aws_kinesis_firehose_delivery_stream',
    name: 'd',
    address: 'aws_kinesis_firehose_delivery_stream.d',
    id: 'd',
    config: { name: 'd', destination: 'extended_s3', kinesis_source_configuration: { kinesis_stream_arn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/s' }, extended_s3_configuration: { bucket_arn: 'arn:aws:s3:::b', ...destination } },
  });

  it('takes the buffering hints, the processors and the compression from the resource, with AWS defaults for what it leaves out', () => {
    const defaults = deliverySettings(resource({}));
    expect(defaults).toMatchObject({ bufferBytes: FIREHOSE_BUFFER_DEFAULTS.sizeMiB * 1024 * 1024, bufferSeconds: 300, appendDelimiter: false, compression: 'UNCOMPRESSED', extension: '' });
    const tuned = deliverySettings(resource({ buffering_size: 64, buffering_interval: 60, compression_format: 'GZIP', processing_configuration: { enabled: true, processors: [{ type: 'AppendDelimiterToRecord' }] } }));
    expect(tuned).toMatchObject({ bufferBytes: 64 * 1024 * 1024, bufferSeconds: 60, appendDelimiter: true, compression: 'GZIP', extension: '.gz' });
    // npm start -- --archive-buffer-seconds 5
    expect(deliverySettings(resource({ buffering_interval: 60 }), 5).bufferSeconds).toBe(5);
  });

  const lambda = (parameters: Record<string, string>) => ({
    type: 'Lambda',
    parameters: Object.entries({ LambdaArn: 'arn:aws:lambda:eu-west-2:000000000000:function:f', ...parameters }).map(([parameter_name, parameter_value]) => ({ parameter_name, parameter_value })),
  });
  const processorOf = (parameters: Record<string, string>, override?: number) =>
    deliverySettings(resource({ processing_configuration: { enabled: true, processors: [lambda(parameters), { type: 'AppendDelimiterToRecord' }] } }), override).lambdaProcessor;

  it("reads the Lambda processor's parameters, with Firehose's defaults of 3 retries, 1 MB and 60 s (https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html)", () => {
    expect(processorOf({})).toEqual({ functionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:f', numberOfRetries: 3, bufferBytes: 1024 * 1024, bufferSeconds: 60 });
    expect(processorOf({ NumberOfRetries: '0', BufferSizeInMBs: '0.2', BufferIntervalInSeconds: '900', RoleArn: 'arn:aws:iam::000000000000:role/r' })).toEqual({
      functionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:f',
      numberOfRetries: 0,
      bufferBytes: Math.round(0.2 * 1024 * 1024),
      bufferSeconds: 900,
    });
    // npm start -- --archive-buffer-seconds 5 shortens the processor's interval too.
    expect(processorOf({ BufferIntervalInSeconds: '120' }, 5)?.bufferSeconds).toBe(5);
    expect(deliverySettings(resource({ processing_configuration: { enabled: false, processors: [lambda({})] } })).lambdaProcessor).toBeUndefined();
  });

  it("refuses Lambda processor parameters outside Firehose's ranges (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html), naming them", () => {
    expect(() => processorOf({ BufferSizeInMBs: '4' })).toThrow(/BufferSizeInMBs must be 0.2 to 3, not "4"/);
    expect(() => processorOf({ BufferSizeInMBs: '0.1' })).toThrow(/BufferSizeInMBs must be 0.2 to 3/);
    expect(() => processorOf({ BufferIntervalInSeconds: '901' })).toThrow(/BufferIntervalInSeconds must be a whole number from 0 to 900/);
    expect(() => processorOf({ NumberOfRetries: '-1' })).toThrow(/NumberOfRetries must be a whole number of 0 or more/);
    expect(() => processorOf({ NumberOfRetries: 'three' })).toThrow(/NumberOfRetries must be a whole number/);
    expect(() => processorOf({ JsonParsingEngine: 'JQ-1.6' })).toThrow(/the Lambda processor parameter JsonParsingEngine is not emulated locally/);
    const noArn = { type: 'Lambda', parameters: [{ parameter_name: 'NumberOfRetries', parameter_value: '2' }] };
    expect(() => deliverySettings(resource({ processing_configuration: { enabled: true, processors: [noArn] } }))).toThrow(/needs a LambdaArn parameter/);
    expect(() => deliverySettings(resource({ processing_configuration: { enabled: true, processors: [lambda({}), lambda({})] } }))).toThrow(/at most one Lambda processor/);
  });

  it('refuses what it does not emulate, naming the argument', () => {
    expect(() => deliverySettings(resource({ processing_configuration: { enabled: true, processors: [{ type: 'RecordDeAggregation' }] } }))).toThrow(/the RecordDeAggregation processor is not emulated locally/);
    expect(() => deliverySettings(resource({ compression_format: 'Snappy' }))).toThrow(/Snappy compression is not emulated/);
    expect(() => deliverySettings(resource({ prefix: 'a/!{timestamp:yyyy}/' }))).toThrow(/error_output_prefix must be given/);
  });

  it('counts versions from 1, one more for every configuration change (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'versions-'));
    try {
      const file = path.join(dir, 'versions.json');
      expect(deliveryStreamVersion(file, 'd', 'one')).toBe(1);
      expect(deliveryStreamVersion(file, 'd', 'one')).toBe(1);
      expect(deliveryStreamVersion(file, 'd', 'two')).toBe(2);
      expect(deliveryStreamVersion(file, 'other', 'one')).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('local Firehose delivery stream (https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html)', () => {
  let kinesis: KinesisHarness;
  let dir: string;
  let stream: DeliveryStream | undefined;

  beforeEach(async () => {
    kinesis = await startKinesis('firehose-test', 2);
    dir = mkdtempSync(path.join(tmpdir(), 'firehose-'));
  });
  afterEach(async () => {
    await stream?.stop();
    stream = undefined;
    await kinesis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (overrides: Partial<DeliveryStreamOptions> = {}, checkpoints = new CheckpointStore()) =>
    (stream = startDeliveryStream({
      ...deliveryStreamOptions(kinesis, dir, checkPrefixes('readings/year=!{timestamp:yyyy}/month=!{timestamp:MM}/', 'errors/!{firehose:error-output-type}/'), checkpoints),
      ...overrides,
    }));

  /** Every object written, as its key and its lines. */
  const objects = (): { key: string; lines: string[] }[] => {
    const found: { key: string; lines: string[] }[] = [];
    const walk = (folder: string) => {
      for (const name of readdirSync(folder).sort()) {
        const full = path.join(folder, name);
        if (statSync(full).isDirectory()) walk(full);
        else found.push({ key: path.relative(dir, full), lines: new TextDecoder().decode(gunzipSync(readFileSync(full))).split('\n') });
      }
    };
    walk(dir);
    return found;
  };
  const readings = (count: number, from = 0) => Array.from({ length: count }, (_, index) => ({ key: `thing-${index % 5}`, data: JSON.stringify({ n: from + index }) }));
  /** Started and reading: a first record put now is read from LATEST. */
  const ready = () => stream?.reading;

  it('writes one GZIP object of newline-delimited records under the evaluated prefix when the interval has passed', async () => {
    start({ bufferSeconds: 1 });
    await ready();
    const put = Date.now();
    await kinesis.put(readings(10));
    await waitFor('an object', () => (objects().length > 0 ? true : undefined), 10_000);
    expect(Date.now() - put).toBeGreaterThanOrEqual(900);
    const [object] = objects();
    const now = new Date();
    expect(object?.key).toMatch(new RegExp(`^readings/year=${now.getUTCFullYear()}/month=${String(now.getUTCMonth() + 1).padStart(2, '0')}/archive-1-\\d{4}(-\\d\\d){5}-[0-9a-f-]{36}\\.jsonl\\.gz$`));
    // Each record then a newline (AppendDelimiterToRecord): the object ends in one.
    expect(object?.lines.at(-1)).toBe('');
    expect(object?.lines.slice(0, -1).map((line) => JSON.parse(line).n).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('writes as soon as the buffer reaches its size, before the interval (https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html)', async () => {
    // Each record is 8-9 bytes plus its newline: 100 bytes fill after about ten.
    start({ bufferBytes: 100, bufferSeconds: 300 });
    await ready();
    await kinesis.put(readings(30));
    await waitFor('the objects', () => (objects().flatMap((object) => object.lines.slice(0, -1)).length >= 20 ? true : undefined), 10_000);
    expect(objects().length).toBeGreaterThanOrEqual(2);
    expect(stream?.stats().buffered).toBeLessThan(30);
  });

  it('concatenates records with no delimiter when no processor adds one', async () => {
    start({ bufferSeconds: 0, compression: 'UNCOMPRESSED', appendDelimiter: false, extension: '' });
    await ready();
    await kinesis.put([{ key: 'a', data: 'x' }]);
    await waitFor('an object', () => (stream?.stats().objects === 1 ? true : undefined), 10_000);
    const files: string[] = [];
    const walk = (folder: string) => readdirSync(folder).forEach((name) => (statSync(path.join(folder, name)).isDirectory() ? walk(path.join(folder, name)) : files.push(path.join(folder, name))));
    walk(dir);
    expect(files.map((file) => readFileSync(file, 'utf8'))).toEqual(['x']);
  });

  it('reads from LATEST when first started: records already in the stream are not archived (https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html)', async () => {
    await kinesis.put(readings(5, 100));
    start({ bufferSeconds: 1 });
    await ready();
    await kinesis.put(readings(3));
    await waitFor('an object', () => (objects().length > 0 ? true : undefined), 10_000);
    expect(objects().flatMap((object) => object.lines.slice(0, -1)).map((line) => JSON.parse(line).n).sort()).toEqual([0, 1, 2]);
  });

  it('writes what it buffers when stopped, and resumes after it at the next start: nothing lost, nothing twice', async () => {
    const checkpoints = new CheckpointStore(path.join(dir, '..', `${path.basename(dir)}-checkpoints.json`));
    start({}, checkpoints);
    await ready();
    await kinesis.put(readings(7));
    await waitFor('the records read', () => (stream?.stats().buffered === 7 ? true : undefined), 10_000);
    expect(objects()).toEqual([]);
    await stream?.stop();
    expect(objects().flatMap((object) => object.lines.slice(0, -1))).toHaveLength(7);

    await kinesis.put(readings(4, 7));
    start({ bufferSeconds: 1 }, checkpoints);
    await waitFor('the second object', () => (objects().length === 2 ? true : undefined), 10_000);
    const numbers = objects()
      .flatMap((object) => object.lines.slice(0, -1))
      .map((line) => JSON.parse(line).n)
      .sort((a, b) => a - b);
    expect(numbers).toEqual([...Array(11).keys()]);
    rmSync(path.join(dir, '..', `${path.basename(dir)}-checkpoints.json`), { force: true });
  });
});
