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
      const table = new DynamodbTable(this, key, {
        name: props.names[key],
        billingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
        ...(provisioned
          ? { readCapacity: props.readCapacity ?? TABLE_LIMITS.readCapacity.default, writeCapacity: props.writeCapacity ?? TABLE_LIMITS.writeCapacity.default }
          : {}),
        hashKey: definition.hashKey,
        rangeKey: definition.rangeKey,
        attribute: [definition.hashKey, ...(definition.rangeKey === undefined ? [] : [definition.rangeKey])].map((name) => ({ name, type: 'S' })),
        ttl: definition.ttlAttribute === undefined ? undefined : { enabled: true, attributeName: definition.ttlAttribute },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: props.deletionProtection ?? true,
      });
      tables[key] = { name: table.name, arn: table.arn };
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
