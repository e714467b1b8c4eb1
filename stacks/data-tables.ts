import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { TABLES, type TableDefinition } from '../handlers/contract';

export type TableKey = keyof typeof TABLES;

export interface DataTablesProps {
  /** Name of each table (SPEC §2, prefixed by the stack). */
  readonly names: Readonly<Record<TableKey, string>>;
  /** @default 'on-demand' */
  readonly billingMode?: 'on-demand' | 'provisioned';
  /** Read capacity of each table; only with `billingMode: 'provisioned'`. @default 5 */
  readonly readCapacity?: number;
  /** Write capacity of each table; only with `billingMode: 'provisioned'`. @default 5 */
  readonly writeCapacity?: number;
  /** @default true */
  readonly deletionProtection?: boolean;
}

export interface TableRef {
  readonly name: string;
  readonly arn: string;
}

/**
 * The platform's DynamoDB tables, one per entry of `TABLES` in handlers/contract.ts (key
 * schema and TTL attribute from there): point-in-time recovery on, encrypted with the
 * AWS managed KMS key, deletion protection on unless configured off.
 */
export class DataTables extends Construct {
  public readonly tables: Readonly<Record<TableKey, TableRef>>;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const billingMode = props.billingMode ?? 'on-demand';
    if (billingMode === 'on-demand' && (props.readCapacity !== undefined || props.writeCapacity !== undefined)) {
      throw new Error('DataTables: readCapacity and writeCapacity only apply to billingMode "provisioned"; remove them or switch the billing mode');
    }
    const capacity = billingMode === 'provisioned' ? { readCapacity: props.readCapacity ?? 5, writeCapacity: props.writeCapacity ?? 5 } : {};

    const tables = {} as Record<TableKey, TableRef>;
    for (const [key, definition] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
      const table = new DynamodbTable(this, key, {
        name: props.names[key],
        billingMode: billingMode === 'provisioned' ? 'PROVISIONED' : 'PAY_PER_REQUEST',
        ...capacity,
        hashKey: definition.hashKey,
        rangeKey: definition.rangeKey,
        attribute: [definition.hashKey, ...(definition.rangeKey === undefined ? [] : [definition.rangeKey])].map((name) => ({ name, type: 'S' })),
        ttl: definition.ttlAttribute === undefined ? undefined : { enabled: true, attributeName: definition.ttlAttribute },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: props.deletionProtection ?? true,
      });
      tables[key] = { name: table.name, arn: table.arn };
    }
    this.tables = tables;
  }
}
