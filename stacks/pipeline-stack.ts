import * as path from 'node:path';
import type { Construct } from 'constructs';
import { HANDLER_ENV } from '../handlers/contract';
import { PROJECT_ROOT, packageHandlers, type HandlerName, type PackagedHandler } from '../build/handler-bundle';
import { AlertTopic } from './alert-topic';
import { Archive } from './archive';
import { ArchiveProcessor } from './archive-processor';
import { ArchiveQuery } from './archive-query';
import { remoteState } from './backend';
import { resourceName, sharedNames, type PlatformConfig } from './config';
import { DataKey } from './data-key';
import { DataTables } from './data-tables';
import { IngestApi } from './ingest-api';
import { Network } from './network';
import { Operations } from './operations';
import { PIPELINE_OUTPUTS, REPOSITORY_OUTPUTS, namedOutput } from './outputs';
import { PlatformStack } from './platform-stack';
import { ReadingStream, StreamConsumers } from './stream-consumers';
import { WebCluster } from './web-cluster';

/** Where synth writes the handler bundles before they become assets (git-ignored). */
export const HANDLER_BUILD_DIR = path.join(PROJECT_ROOT, 'dist', 'handlers');

export interface PipelineStackOptions {
  /** Handler packages already built (tests share one build). @default built into HANDLER_BUILD_DIR */
  readonly handlerPackages?: Readonly<Record<HandlerName, PackagedHandler>>;
}

/**
 * The seed's Main stack: ingest API → stream → consumers and archive, tables, alerts,
 * the web app on ECS, and the operations alarms. The image comes from the repository
 * stack's state.
 */
export class PipelineStack extends PlatformStack {
  public readonly ingest: IngestApi;
  public readonly web: WebCluster;

  constructor(scope: Construct, config: PlatformConfig, options: PipelineStackOptions = {}) {
    super(scope, 'pipeline', config);
    const names = sharedNames(config);
    const prefix = resourceName(config, 'iot');
    const retention = config.logRetentionDays;
    const repository = remoteState(this, 'repository-state', config.backend, 'repository');
    const packages = options.handlerPackages ?? packageHandlers(HANDLER_BUILD_DIR);
    const imageUrl = `${repository.getString(REPOSITORY_OUTPUTS.repositoryUrl)}:${config.web.imageTag}`;

    const key = new DataKey(this, 'data-key', { aliasName: `${prefix}-data`, description: 'Encrypts the readings stream, failure queue, alert topic and archive' });
    const { tables } = new DataTables(this, 'tables', {
      names: { things: names.thingsTable, thresholds: names.thresholdsTable, alerts: names.alertsTable, series: names.seriesTable },
      billingMode: config.tables.billingMode,
      ...(config.tables.billingMode === 'provisioned' ? { readCapacity: config.tables.readCapacity, writeCapacity: config.tables.writeCapacity } : {}),
      deletionProtection: config.tables.deletionProtection,
    });
    const alerts = new AlertTopic(this, 'alert-topic', { name: names.alertTopic, kmsKeyArn: key.arn, emails: config.alerts.emails });
    const stream = new ReadingStream(this, 'stream', {
      name: names.stream,
      kmsKeyArn: key.arn,
      mode: config.stream.mode,
      shardCount: config.stream.mode === 'provisioned' ? config.stream.shardCount : undefined,
      retentionHours: config.stream.retentionHours,
    });
    const consumers = new StreamConsumers(this, 'consumers', {
      namePrefix: prefix,
      failureQueueName: names.failureQueue,
      stream,
      kmsKeyArn: key.arn,
      tables,
      alertTopicArn: alerts.arn,
      packages,
      logRetentionDays: retention,
      ...config.consumers,
      alertCooldownSeconds: config.alerts.cooldownSeconds,
      hotRetentionDays: config.tables.hotRetentionDays,
    });
    this.ingest = new IngestApi(this, 'ingest-api', {
      name: `${prefix}-ingest`,
      region: config.region,
      streamName: names.stream,
      streamArn: stream.arn,
      kmsKeyArn: key.arn,
      logRetentionDays: retention,
      ...config.api,
    });
    const network = new Network(this, 'network', {
      namePrefix: prefix,
      ...(config.network.vpcId === undefined ? { vpcCidr: config.network.vpcCidr } : { existingVpcId: config.network.vpcId, existingSubnetIds: config.network.subnetIds }),
    });
    this.web = new WebCluster(this, 'web', {
      namePrefix: prefix,
      region: config.region,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      imageUrl,
      repositoryArn: repository.getString(REPOSITORY_OUTPUTS.repositoryArn),
      containerPort: config.web.containerPort,
      taskMemoryMiB: config.web.memoryMiB,
      healthCheckPath: config.web.healthCheckPath,
      desiredTasks: config.web.desiredTasks,
      instanceType: config.cluster.instanceType,
      minInstances: config.cluster.minInstances,
      maxInstances: config.cluster.maxInstances,
      memoryScaleUpPercent: config.cluster.memoryHighPercent,
      memoryScaleDownPercent: config.cluster.memoryLowPercent,
      cooldownSeconds: config.cluster.cooldownSeconds,
      sshKeyName: config.network.sshKeyName,
      sshCidr: config.network.sshCidr,
      certificateArn: config.network.certificateArn,
      domainName: config.web.domainName,
      logRetentionDays: retention,
      tables: Object.values(tables),
      environment: {
        [HANDLER_ENV.thingsTable]: tables.things.name,
        [HANDLER_ENV.thresholdsTable]: tables.thresholds.name,
        [HANDLER_ENV.alertsTable]: tables.alerts.name,
        [HANDLER_ENV.seriesTable]: tables.series.name,
      },
    });
    const operations = new Operations(this, 'operations', {
      namePrefix: prefix,
      region: config.region,
      notificationEmails: config.operations.emails,
      streamName: stream.name,
      consumerFunctions: consumers.functionNames,
      failureQueueName: consumers.failureQueueName,
      apiName: this.ingest.restApiName,
      apiStageName: this.ingest.stageName,
      tables: Object.fromEntries(Object.entries(tables).map(([tableKey, table]) => [tableKey, table.name])),
      loadBalancerArnSuffix: this.web.loadBalancerArnSuffix,
      targetGroupArnSuffix: this.web.targetGroupArnSuffix,
    });
    const processor = new ArchiveProcessor(this, 'archive-processor', { namePrefix: prefix, package: packages['archive-flatten'], logRetentionDays: retention, alarmTopicArn: operations.topicArn });
    const archive = new Archive(this, 'archive', { name: `${prefix}-archive`, streamArn: stream.arn, kmsKeyArn: key.arn, logRetentionDays: retention, processorArn: processor.functionArn, ...config.archive });
    const query = new ArchiveQuery(this, 'archive-query', { namePrefix: prefix, archiveBucketName: archive.bucketName, archiveBucketArn: archive.bucketArn, kmsKeyArn: key.arn, ...config.query });

    const output = (name: string, value: string, description: string, sensitive = false) => namedOutput(this, name, value, description, sensitive);
    output(PIPELINE_OUTPUTS.apiInvokeUrl, this.ingest.invokeUrl, 'Invoke URL of the ingest API stage prod');
    output(PIPELINE_OUTPUTS.ingestUrl, this.ingest.ingestUrl, 'PUT one reading here ({"Data": {...}}, header x-api-key)');
    output(PIPELINE_OUTPUTS.batchIngestUrl, this.ingest.batchIngestUrl, 'POST up to 500 readings here ({"Data": [...]}, header x-api-key)');
    output(PIPELINE_OUTPUTS.apiKeyId, this.ingest.apiKeyId, 'Id of the devices\' API key (aws apigateway get-api-key --include-value --api-key <id>)');
    output(PIPELINE_OUTPUTS.apiKey, this.ingest.apiKeyValue, 'The devices\' API key (terraform output -raw api_key)', true);
    output(PIPELINE_OUTPUTS.webUrl, this.web.webUrl, 'URL of the web app');
    output(PIPELINE_OUTPUTS.imageUrl, imageUrl, 'Image the web service runs (repository URL from the repository stack + configured tag)');
    output(PIPELINE_OUTPUTS.clusterName, this.web.clusterName, 'Name of the ECS cluster (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.serviceName, this.web.serviceName, 'Name of the web ECS service (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.autoScalingGroupName, this.web.autoScalingGroupName, 'Name of the cluster\'s Auto Scaling group (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.streamName, stream.name, 'Name of the Kinesis stream of readings');
    output(PIPELINE_OUTPUTS.thingsTable, tables.things.name, 'DynamoDB table of readings');
    output(PIPELINE_OUTPUTS.thresholdsTable, tables.thresholds.name, 'DynamoDB table of thresholds and alert state');
    output(PIPELINE_OUTPUTS.alertsTable, tables.alerts.name, 'DynamoDB table of alerts sent');
    output(PIPELINE_OUTPUTS.seriesTable, tables.series.name, 'DynamoDB series catalogue (latest reading per series)');
    output(PIPELINE_OUTPUTS.alertTopicArn, alerts.arn, 'SNS topic of threshold alerts');
    output(PIPELINE_OUTPUTS.operationsTopicArn, operations.topicArn, 'SNS topic of operational alarms');
    output(PIPELINE_OUTPUTS.failureQueueUrl, consumers.failureQueueUrl, 'SQS queue of records the consumers could not process');
    output(PIPELINE_OUTPUTS.archiveBucket, archive.bucketName, 'S3 bucket of the gzipped JSON-lines archive');
    output(PIPELINE_OUTPUTS.dashboardName, operations.dashboardName, 'CloudWatch dashboard of the pipeline');
    output(PIPELINE_OUTPUTS.queryWorkgroup, query.workgroupName, 'Athena workgroup for SQL over the archive (npm run query)');
    output(PIPELINE_OUTPUTS.queryDatabase, query.databaseName, 'Glue database of the archive table');
    output(PIPELINE_OUTPUTS.queryTable, query.tableName, 'Glue table of archived readings');
    output(PIPELINE_OUTPUTS.queryResultsLocation, query.resultsLocation, 'Where Athena writes query results (encrypted, expiring)');
    output(PIPELINE_OUTPUTS.queryPolicyArn, query.queryPolicyArn, 'IAM policy to attach to whoever runs SQL over the archive');
  }
}
