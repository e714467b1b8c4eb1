/**
 * From units measured per reading on the local platform to dollars per hour at a given
 * rate: each measured quantity is scaled to the readings an hour holds and multiplied by
 * its list price (prices.ts); what does not scale with readings (shards, the web tier,
 * archive objects) is sized from the rate and the stack's configuration, and labelled so.
 */
import type { Usage } from '../local/usage-meter';
import type { PriceTable } from './prices';

const GB = 2 ** 30;
const MIB = 2 ** 20;
/** A provisioned shard takes 1 MiB/s or 1,000 records/s in and gives 2 MiB/s out. https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html */
export const SHARD_LIMITS = { bytesIn: MIB, recordsIn: 1000, bytesOut: 2 * MIB } as const;

/** Provisioned shards a stream needs for rates per second in and out: the larger need of bytes in, records in and bytes out. */
export const shardsNeeded = (rates: { readonly bytesIn: number; readonly recordsIn: number; readonly bytesOut: number }): number =>
  Math.max(1, Math.ceil(rates.bytesIn / SHARD_LIMITS.bytesIn), Math.ceil(rates.recordsIn / SHARD_LIMITS.recordsIn), Math.ceil(rates.bytesOut / SHARD_LIMITS.bytesOut));

export type TableMode = 'on-demand' | 'provisioned';
export type StreamMode = 'provisioned' | 'on-demand';

export interface Mix {
  /** Megabytes (10^6 bytes) of readings per second. */
  readonly megabytesPerSecond: number;
  readonly readingBytes: number;
}

/** What the local run counted, over how many readings. */
export interface Measurement {
  readonly readings: number;
  readonly usage: Usage;
  /** Each function's architecture, by name (priced per GB-second by it). */
  readonly architectures: Readonly<Record<string, 'arm64' | 'x86_64'>>;
}

/** What the stack's configuration fixes. */
export interface Deployment {
  readonly streamMode: StreamMode;
  /** Each delivery stream's buffering hints: an object is written per full buffer or per interval. */
  readonly archiveBuffers: readonly { readonly bytes: number; readonly seconds: number }[];
  readonly web: { readonly instanceType: string; readonly minInstances: number; readonly maxInstances: number };
}

export interface CostLine {
  readonly service: string;
  /** Units per hour at the rate, in words. */
  readonly detail: string;
  /** Dollars per hour, by table mode (the same for both unless the line is a table). */
  readonly dollarsPerHour: Readonly<Record<TableMode, number>>;
  /** Measured per reading (true), or sized from the rate and the configuration (false). */
  readonly measured: boolean;
}

export interface CostReport {
  readonly readingsPerSecond: number;
  readonly lines: readonly CostLine[];
  readonly totals: Readonly<Record<TableMode, number>>;
}

const both = (dollars: number): Record<TableMode, number> => ({ 'on-demand': dollars, provisioned: dollars });
const count = (value: number): string => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3));

export function priceMeasurement(measurement: Measurement, mix: Mix, deployment: Deployment, prices: PriceTable): CostReport {
  if (measurement.readings <= 0) throw new Error('no readings were measured: nothing to scale');
  const readingsPerSecond = (mix.megabytesPerSecond * 1e6) / mix.readingBytes;
  const perHour = (total: number) => (total / measurement.readings) * readingsPerSecond * 3600;
  const perSecond = (total: number) => (total / measurement.readings) * readingsPerSecond;
  const { usage } = measurement;
  const lines: CostLine[] = [];

  const requests = perHour(usage.api.requests);
  lines.push({ service: 'API Gateway (REST)', detail: `${count(requests)} requests`, dollarsPerHour: both((requests / 1e6) * prices.apiGateway.perMillionRequests), measured: true });

  const { kinesis } = usage;
  if (deployment.streamMode === 'provisioned') {
    const shards = shardsNeeded({ bytesIn: perSecond(kinesis.bytes), recordsIn: perSecond(kinesis.records), bytesOut: perSecond(kinesis.bytesRead) });
    const units = perHour(kinesis.putPayloadUnits);
    lines.push({
      service: 'Kinesis (provisioned)',
      detail: `${count(shards)} shards for ${count(perSecond(kinesis.records))} records/s; ${count(units)} PUT payload units`,
      dollarsPerHour: both(shards * prices.kinesis.shardHour + (units / 1e6) * prices.kinesis.perMillionPutPayloadUnits),
      measured: true,
    });
  } else {
    const gbIn = perHour(kinesis.onDemandBytes) / GB;
    const gbOut = perHour(kinesis.bytesRead) / GB;
    lines.push({
      service: 'Kinesis (on-demand)',
      detail: `${count(gbIn)} GB in (1 KB per record at least), ${count(gbOut)} GB read`,
      dollarsPerHour: both(prices.kinesis.onDemandStreamHour + gbIn * prices.kinesis.onDemandPerGbIn + gbOut * prices.kinesis.onDemandPerGbOut),
      measured: true,
    });
  }

  for (const [name, fn] of Object.entries(usage.lambda).sort(([a], [b]) => a.localeCompare(b))) {
    const invocations = perHour(fn.invocations);
    const gbSeconds = perHour(fn.gbSeconds);
    const rate = prices.lambda.perGbSecond[measurement.architectures[name] ?? 'x86_64'];
    lines.push({
      service: `Lambda ${name}`,
      detail: `${count(invocations)} invocations, ${count(gbSeconds)} GB-s (${fn.memoryMiB} MB, local durations)`,
      dollarsPerHour: both((invocations / 1e6) * prices.lambda.perMillionRequests + gbSeconds * rate),
      measured: true,
    });
  }

  for (const [table, units] of Object.entries(usage.dynamodb).sort(([a], [b]) => a.localeCompare(b))) {
    const writes = perHour(units.writeUnits);
    const reads = perHour(units.readUnits);
    lines.push({
      service: `DynamoDB ${table}`,
      detail: `${count(writes)} write units, ${count(reads)} read units (provisioned: ${count(writes / 3600)} WCU, ${count(reads / 3600)} RCU at 100 %)`,
      dollarsPerHour: {
        'on-demand': (writes / 1e6) * prices.dynamodb.perMillionWriteRequestUnits + (reads / 1e6) * prices.dynamodb.perMillionReadRequestUnits,
        provisioned: (writes / 3600) * prices.dynamodb.writeCapacityUnitHour + (reads / 3600) * prices.dynamodb.readCapacityUnitHour,
      },
      measured: true,
    });
  }

  const firehoseGb = perHour(usage.firehose.billedBytes) / GB;
  lines.push({
    service: 'Firehose',
    detail: `${count(firehoseGb)} GB billed (5 KB per record at least) for ${count(perHour(usage.firehose.bytes) / GB)} GB read`,
    dollarsPerHour: both(firehoseGb * prices.firehose.perGbIngested),
    measured: true,
  });

  // Objects follow the buffering hints, not the readings: one per full buffer, or per interval.
  const archiveBytes = perHour(usage.s3.bytes) / Math.max(1, deployment.archiveBuffers.length);
  const objects = deployment.archiveBuffers.reduce((sum, buffer) => sum + Math.max(3600 / buffer.seconds, archiveBytes / buffer.bytes), 0);
  lines.push({
    service: 'S3 archive PUTs',
    detail: `${count(objects)} objects for ${count(perHour(usage.s3.bytes) / GB)} GB before compression (sized by the buffering hints)`,
    dollarsPerHour: both((objects / 1000) * prices.s3.perThousandPuts),
    measured: false,
  });

  const { web } = deployment;
  const instanceHour = prices.ec2.instanceHour[web.instanceType];
  const loadBalancer = prices.loadBalancer.hour + prices.loadBalancer.lcuHour;
  lines.push({
    service: 'Web tier (fixed)',
    detail:
      instanceHour === undefined
        ? `${web.instanceType} is not in the price table: load balancer only`
        : `${web.minInstances} × ${web.instanceType} (up to ${web.maxInstances}: $${(web.maxInstances * instanceHour + loadBalancer).toFixed(3)}/h) + load balancer, 1 LCU`,
    dollarsPerHour: both(web.minInstances * (instanceHour ?? 0) + loadBalancer),
    measured: false,
  });

  const total = (mode: TableMode) => lines.reduce((sum, line) => sum + line.dollarsPerHour[mode], 0);
  return { readingsPerSecond, lines, totals: { 'on-demand': total('on-demand'), provisioned: total('provisioned') } };
}
