import type { Usage } from '../../local/usage-meter';
import { priceMeasurement, type Deployment } from '../../tools/cost-model';
import { PRICES, type PriceTable } from '../../tools/prices';

/** Round figures, so each expected dollar amount below can be worked out by hand. */
const prices: PriceTable = {
  ...PRICES,
  apiGateway: { ...PRICES.apiGateway, perMillionRequests: 4 },
  kinesis: { ...PRICES.kinesis, shardHour: 0.01, perMillionPutPayloadUnits: 0.02, onDemandStreamHour: 0.05, onDemandPerGbIn: 0.1, onDemandPerGbOut: 0.05 },
  dynamodb: { ...PRICES.dynamodb, perMillionWriteRequestUnits: 1, perMillionReadRequestUnits: 0.5, writeCapacityUnitHour: 0.001, readCapacityUnitHour: 0.0002 },
  lambda: { ...PRICES.lambda, perMillionRequests: 0.2, perGbSecond: { arm64: 0.00001, x86_64: 0.00002 } },
  firehose: { ...PRICES.firehose, perGbIngested: 0.03 },
  s3: { ...PRICES.s3, perThousandPuts: 0.005 },
  ec2: { ...PRICES.ec2, instanceHour: { 't3.small': 0.02 } },
  loadBalancer: { ...PRICES.loadBalancer, hour: 0.02, lcuHour: 0.01 },
};

/** 1,000 readings of 100 bytes: one record each, batches of 500, one 1 KB item each. */
const usage: Usage = {
  api: { requests: 2 },
  kinesis: { records: 1000, bytes: 128_000, putPayloadUnits: 1000, onDemandBytes: 1000 * 1024, bytesRead: 3 * 128_000 },
  dynamodb: { things: { writeUnits: 1000, readUnits: 10, requests: 40, itemsPut: 1000 } },
  firehose: { records: 1000, bytes: 128_000, billedBytes: 1000 * 5120 },
  s3: { objects: 1, bytes: 150_000 },
  lambda: { store: { memoryMiB: 512, invocations: 2, durationMs: 400, gbSeconds: 0.2 } },
};
const deployment: Deployment = { streamMode: 'provisioned', archiveBuffers: [{ bytes: 64 * 2 ** 20, seconds: 60 }], web: { instanceType: 't3.small', minInstances: 1, maxInstances: 5 } };
// 1 MB/s of 100-byte readings: 10,000 readings/s, 36 million an hour.
const mix = { megabytesPerSecond: 1, readingBytes: 100 };
const perHour = 36_000_000 / 1000;

describe('priceMeasurement', () => {
  const report = priceMeasurement({ readings: 1000, usage, architectures: { store: 'arm64' } }, mix, deployment, prices);
  const line = (service: string) => {
    const found = report.lines.find((candidate) => candidate.service === service);
    if (found === undefined) throw new Error(`no line ${service}: ${report.lines.map((candidate) => candidate.service).join(', ')}`);
    return found;
  };

  test('scales per-reading units to the readings an hour holds at the rate', () => {
    expect(report.readingsPerSecond).toBe(10_000);
    // 2 requests per 1,000 readings: 72,000 an hour at $4 per million.
    expect(line('API Gateway (REST)').dollarsPerHour['on-demand']).toBeCloseTo(0.288, 10);
  });

  test('a provisioned stream needs shards for the larger of bytes in, records in and bytes out (1,000 records/s a shard)', () => {
    // 10,000 records/s need 10 shards (1.28 MB/s in needs 2, 3.84 MB/s out needs 2); 36 million PUT payload units.
    expect(line('Kinesis (provisioned)').dollarsPerHour.provisioned).toBeCloseTo(10 * 0.01 + 36 * 0.02, 10);
  });

  test('an on-demand stream bills the stream hour, GB in (1 KB a record at least) and GB read', () => {
    const onDemand = priceMeasurement({ readings: 1000, usage, architectures: {} }, mix, { ...deployment, streamMode: 'on-demand' }, prices);
    const kinesis = onDemand.lines.find((candidate) => candidate.service === 'Kinesis (on-demand)');
    const gbIn = (perHour * 1000 * 1024) / 2 ** 30;
    const gbOut = (perHour * 3 * 128_000) / 2 ** 30;
    expect(kinesis?.dollarsPerHour['on-demand']).toBeCloseTo(0.05 + gbIn * 0.1 + gbOut * 0.05, 10);
  });

  test('tables cost per request unit on demand and per unit-hour of steady capacity when provisioned', () => {
    const things = line('DynamoDB things').dollarsPerHour;
    // 36 million write units and 360,000 read units an hour; provisioned: 10,000 WCU and 100 RCU.
    expect(things['on-demand']).toBeCloseTo(36 * 1 + 0.36 * 0.5, 10);
    expect(things.provisioned).toBeCloseTo(10_000 * 0.001 + 100 * 0.0002, 10);
  });

  test('Lambda bills invocations and GB-seconds at the function architecture rate', () => {
    // 72,000 invocations and 7,200 GB-s an hour.
    expect(line('Lambda store').dollarsPerHour['on-demand']).toBeCloseTo(72_000 * 0.2e-6 + 7200 * 0.00001, 10);
    const x86 = priceMeasurement({ readings: 1000, usage, architectures: { store: 'x86_64' } }, mix, deployment, prices);
    expect(x86.lines.find((candidate) => candidate.service === 'Lambda store')?.dollarsPerHour['on-demand']).toBeCloseTo(72_000 * 0.2e-6 + 7200 * 0.00002, 10);
  });

  test('Firehose bills the rounded bytes; S3 objects follow the buffering hints, not the readings', () => {
    expect(line('Firehose').dollarsPerHour['on-demand']).toBeCloseTo(((perHour * 5120 * 1000) / 2 ** 30) * 0.03, 10);
    // 5.4 GB an hour into 64 MiB buffers: about 80 objects, more than the 60 the interval alone writes.
    const objects = (perHour * 150_000) / (64 * 2 ** 20);
    expect(line('S3 archive PUTs').dollarsPerHour['on-demand']).toBeCloseTo((objects / 1000) * 0.005, 10);
    expect(line('S3 archive PUTs').measured).toBe(false);
  });

  test('the web tier is fixed: the fewest instances and the load balancer with one LCU', () => {
    expect(line('Web tier (fixed)').dollarsPerHour['on-demand']).toBeCloseTo(0.02 + 0.02 + 0.01, 10);
    const unknown = priceMeasurement({ readings: 1000, usage, architectures: {} }, mix, { ...deployment, web: { ...deployment.web, instanceType: 'x9.huge' } }, prices);
    expect(unknown.lines.find((candidate) => candidate.service === 'Web tier (fixed)')?.detail).toMatch(/x9\.huge is not in the price table/);
  });

  test('totals add up every line, tables differing by mode only', () => {
    for (const mode of ['on-demand', 'provisioned'] as const) expect(report.totals[mode]).toBeCloseTo(report.lines.reduce((sum, candidate) => sum + candidate.dollarsPerHour[mode], 0), 10);
    const differing = report.lines.filter((candidate) => candidate.dollarsPerHour['on-demand'] !== candidate.dollarsPerHour.provisioned).map((candidate) => candidate.service);
    expect(differing).toEqual(['DynamoDB things']);
  });

  test('no readings measured is an error, not a division by zero', () => {
    expect(() => priceMeasurement({ readings: 0, usage, architectures: {} }, mix, deployment, prices)).toThrow(/no readings were measured/);
  });
});
