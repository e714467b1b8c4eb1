import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database';
import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import {
  ARCHIVE_COLUMNS,
  ARCHIVE_PARTITIONS,
  ARCHIVE_ROOT,
  ARCHIVE_TABLE,
  PARTITION_TYPES,
  archivePrefix,
  type ArchivePartition,
} from '../handlers/archive-format';
import { ARCHIVE_QUERY_LIMITS } from './construct-defaults';
import { privateBucket } from './private-bucket';
export { ARCHIVE_QUERY_LIMITS } from './construct-defaults';

export interface ArchiveQueryProps {
  /** Prefix of the database (`-` becomes `_`), workgroup, results bucket and policy names. */
  readonly namePrefix: string;
  readonly archiveBucketName: string;
  readonly archiveBucketArn: string;
  /** Key of the archive objects; query results are encrypted with it too. */
  readonly kmsKeyArn: string;
  /** Bytes one query may scan before Athena cancels it, in GB (10^9 bytes). @default ARCHIVE_QUERY_LIMITS.maxScanGigabytes.default */
  readonly maxScanGigabytes?: number;
  /** @default ARCHIVE_QUERY_LIMITS.resultsExpireDays.default */
  readonly resultsExpireDays?: number;
  /** First and last year of arrival partitions Athena projects. @default ARCHIVE_QUERY_LIMITS.firstYear.default / lastYear.default */
  readonly firstYear?: number;
  readonly lastYear?: number;
}

/** Query results land under this prefix of the results bucket. */
export const QUERY_RESULTS_PREFIX = 'results/';

/**
 * SQL over the archive: a Glue database and the `readings` table (handlers/archive-format.ts)
 * with partition projection on the archive's year/month/day/hour prefix, so new hours are
 * queryable as Firehose writes them, with no crawler and no partition to add; an Athena
 * workgroup whose settings queries cannot override (results location, encryption, a
 * per-query scan limit); the encrypted results bucket; and a managed policy with exactly
 * what running a query needs, for whoever queries.
 */
export class ArchiveQuery extends Construct {
  public readonly workgroupName: string;
  public readonly databaseName: string;
  public readonly tableName: string;
  /** `s3://<results bucket>/results/` */
  public readonly resultsLocation: string;
  public readonly queryPolicyArn: string;

  constructor(scope: Construct, id: string, props: ArchiveQueryProps) {
    super(scope, id);
    const { firstYear = ARCHIVE_QUERY_LIMITS.firstYear.default, lastYear = ARCHIVE_QUERY_LIMITS.lastYear.default } = props;
    const cutoffBytes = Math.round((props.maxScanGigabytes ?? ARCHIVE_QUERY_LIMITS.maxScanGigabytes.default) * 1e9);
    const sqlName = props.namePrefix.replace(/-/g, '_');

    const { bucket: results } = privateBucket(new Construct(this, 'results'), {
      namePrefix: `${props.namePrefix}-query-results`,
      encryption: { kmsKeyArn: props.kmsKeyArn },
      lifecycle: [
        {
          id: 'expire-results',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          expiration: [{ days: props.resultsExpireDays ?? ARCHIVE_QUERY_LIMITS.resultsExpireDays.default }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });

    const database = new GlueCatalogDatabase(this, 'database', { name: `${sqlName}_archive`, description: 'The readings archive, for Athena' });
    const ranges: Record<string, readonly [number, number]> = { year: [firstYear, lastYear] };
    const rangeOf = (partition: ArchivePartition) => ('range' in partition && partition.range !== undefined ? partition.range : ranges[partition.name]!);
    const table = new GlueCatalogTable(this, 'table', {
      name: ARCHIVE_TABLE,
      databaseName: database.name,
      tableType: 'EXTERNAL_TABLE',
      description: 'One row per metric of every archived reading; partitions are the hour (UTC) Firehose received it',
      parameters: {
        EXTERNAL: 'TRUE',
        classification: 'json',
        'projection.enabled': 'true',
        ...Object.fromEntries(
          ARCHIVE_PARTITIONS.flatMap((partition) => [
            [`projection.${partition.name}.type`, 'integer'],
            [`projection.${partition.name}.range`, rangeOf(partition).join(',')],
            [`projection.${partition.name}.digits`, String(partition.digits)],
          ]),
        ),
        // `$${...}` is a literal `${...}` for Terraform: Athena fills in the partition values.
        'storage.location.template': `s3://${props.archiveBucketName}/${archivePrefix((partition) => `$\${${partition.name}}`)}`,
        // Objects moved to Glacier Flexible Retrieval are skipped unless restored; restored ones are read.
        read_restored_glacier_objects: 'true',
      },
      partitionKeys: ARCHIVE_PARTITIONS.map((partition) => ({ name: partition.name, type: PARTITION_TYPES.glueType, comment: `UTC ${partition.name} Firehose received the reading` })),
      storageDescriptor: {
        location: `s3://${props.archiveBucketName}/${ARCHIVE_ROOT}/`,
        inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        compressed: true,
        // The Hive SerDe: Athena documents the OpenX one as giving non-deterministic results
        // (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html).
        serDeInfo: { name: 'archive-lines', serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        columns: ARCHIVE_COLUMNS.map((column) => ({ name: column.name, type: column.glueType, comment: column.comment })),
      },
    });

    const workgroup = new AthenaWorkgroup(this, 'workgroup', {
      name: `${props.namePrefix}-archive`,
      description: 'Queries over the readings archive: results encrypted and expiring, scans capped per query',
      state: 'ENABLED',
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoffBytes,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${results.bucket}/${QUERY_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKeyArn: props.kmsKeyArn },
        },
      },
    });

    // Athena needs the catalog and the `default` database besides the queried ones
    // (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html);
    // both ARNs are derived from the database's own, so they follow its partition, region and account.
    const catalogArn = Fn.replace(database.arn, '/:database/.*$/', ':catalog');
    const defaultDatabaseArn = Fn.replace(database.arn, '/[^/]+$/', 'default');
    const document = new DataAwsIamPolicyDocument(this, 'query-permissions', {
      statement: [
        {
          sid: 'RunQueriesInTheWorkgroup',
          effect: 'Allow',
          actions: ['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:GetWorkGroup', 'athena:StartQueryExecution', 'athena:StopQueryExecution'],
          resources: [workgroup.arn],
        },
        { sid: 'ReadTheTableDefinition', effect: 'Allow', actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'], resources: [catalogArn, database.arn, table.arn] },
        { sid: 'AthenaDefaultDatabase', effect: 'Allow', actions: ['glue:CreateDatabase', 'glue:GetDatabase'], resources: [catalogArn, defaultDatabaseArn] },
        { sid: 'LocateTheBuckets', effect: 'Allow', actions: ['s3:GetBucketLocation'], resources: [props.archiveBucketArn, results.arn] },
        {
          sid: 'ListArchivedReadings',
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resources: [props.archiveBucketArn],
          condition: [{ test: 'StringLike', variable: 's3:prefix', values: [`${ARCHIVE_ROOT}/`, `${ARCHIVE_ROOT}/*`] }],
        },
        { sid: 'ReadArchivedReadings', effect: 'Allow', actions: ['s3:GetObject'], resources: [`${props.archiveBucketArn}/${ARCHIVE_ROOT}/*`] },
        { sid: 'ListResults', effect: 'Allow', actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [results.arn] },
        {
          sid: 'WriteAndReadResults',
          effect: 'Allow',
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
          resources: [`${results.arn}/${QUERY_RESULTS_PREFIX}*`],
        },
        // Decrypt the archive and results; a data key to write results.
        { sid: 'UseTheDataKey', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
      ],
    });
    const policy = new IamPolicy(this, 'query-policy', {
      name: `${props.namePrefix}-archive-query`,
      description: 'Run SQL over the readings archive in its Athena workgroup (attach to the people and roles that query)',
      policy: document.json,
    });

    this.workgroupName = workgroup.name;
    this.databaseName = database.name;
    this.tableName = table.name;
    this.resultsLocation = `s3://${results.bucket}/${QUERY_RESULTS_PREFIX}`;
    this.queryPolicyArn = policy.arn;
  }
}
