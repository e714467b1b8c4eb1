import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { TABLES, type TableDefinition } from '../handlers/contract';
import { FIVE_MINUTES, notifyingAlarm } from './alarm';
import { TABLE_LIMITS } from './construct-defaults';
export { TABLE_LIMITS } from './construct-defaults';

export type TableKey = keyof typeof TABLES;

export interface DataTablesProps {
  /** Name of each table (the shared names of handlers/contract.ts, prefixed by the stack). */
  readonly names: Readonly<Record<TableKey, string>>;
  /** @default 'on-demand' */
  readonly billingMode?: 'on-demand' | 'provisioned';
  /** Read capacity of each table; used only with `billingMode: 'provisioned'`. @default TABLE_LIMITS.readCapacity.default */
  readonly readCapacity?: number;
  /** Write capacity of each table; used only with `billingMode: 'provisioned'`. @default TABLE_LIMITS.writeCapacity.default */
  readonly writeCapacity?: number;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** Notified when reads or writes on a table are throttled, and on recovery. */
  readonly alarmActions: readonly string[];
}


export interface TableRef {
  readonly name: string;
  readonly arn: string;
  /** ARNs of its global secondary indexes by name (a Query on an index is granted on its own ARN). */
  readonly indexArns: Readonly<Record<string, string>>;
}

/**
 * The platform's DynamoDB tables, one per entry of `TABLES` in handlers/contract.ts (key
 * schema and TTL attribute from there): point-in-time recovery on, encrypted with the
 * AWS managed KMS key, deletion protection on unless configured off, and an alarm on
 * throttled reads or writes for each.
 */
export class DataTables extends Construct {
  public readonly tables: Readonly<Record<TableKey, TableRef>>;
  public readonly alarmArns: string[] = [];

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const provisioned = props.billingMode === 'provisioned';
    const tables = {} as Record<TableKey, TableRef>;
    for (const [key, definition] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
      const capacity = provisioned ? { readCapacity: props.readCapacity ?? TABLE_LIMITS.readCapacity.default, writeCapacity: props.writeCapacity ?? TABLE_LIMITS.writeCapacity.default } : {};
      const indexes = definition.indexes ?? [];
      const keyAttributes = [definition.hashKey, definition.rangeKey, ...indexes.flatMap((index) => [index.hashKey, index.rangeKey])].filter((name): name is string => name !== undefined);
      const table = new DynamodbTable(this, key, {
        name: props.names[key],
        billingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
        ...capacity,
        hashKey: definition.hashKey,
        rangeKey: definition.rangeKey,
        attribute: [...new Set(keyAttributes)].map((name) => ({ name, type: 'S' })),
        ...(indexes.length === 0
          ? {}
          : { globalSecondaryIndex: indexes.map((index) => ({ name: index.name, hashKey: index.hashKey, rangeKey: index.rangeKey, projectionType: 'ALL', ...capacity })) }),
        ttl: definition.ttlAttribute === undefined ? undefined : { enabled: true, attributeName: definition.ttlAttribute },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: props.deletionProtection ?? true,
      });
      tables[key] = { name: table.name, arn: table.arn, indexArns: Object.fromEntries(indexes.map((index) => [index.name, `${table.arn}/index/${index.name}`])) };
      const events = (queryId: string, metricName: string) => ({
        id: queryId,
        returnData: false,
        metric: { namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: table.name }, stat: 'Sum', period: FIVE_MINUTES },
      });
      const throttles = notifyingAlarm(this, `${key}-throttles-alarm`, {
        alarmName: `${props.names[key]}-throttles`,
        alarmDescription: 'Reads or writes on the table were throttled',
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        metricQuery: [
          events('reads', 'ReadThrottleEvents'),
          events('writes', 'WriteThrottleEvents'),
          // A metric with no data point in a period must count as 0, or one kind of throttle would hide the other.
          { id: 'throttles', expression: 'FILL(reads, 0) + FILL(writes, 0)', label: 'Throttle events', returnData: true },
        ],
      }, props.alarmActions);
      this.alarmArns.push(throttles.arn);
    }
    this.tables = tables;
  }
}
