import * as path from 'node:path';
import { AnnotationMetadataEntryType } from 'cdktf';
import type { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { HANDLER_ENV, IDENTITY_ENV, retentionEnvironment } from '../handlers/contract';
import { packageHandlers, type HandlerName, type PackagedHandler } from '../build/handler-bundle';
import { AlertTopic } from './alert-topic';
import { Archive } from './archive';
import { ArchiveProcessor } from './archive-processor';
import { ArchiveQuery } from './archive-query';
import { remoteState } from './backend';
import { resourceName, sharedNames, type PlatformConfig } from './config';
import { batchBuckets } from './construct-defaults';
import { DataKey } from './data-key';
import { DataTables } from './data-tables';
import { IngestApi } from './ingest-api';
import { Network } from './network';
import { NoDataCheck } from './no-data-check';
import { Operations } from './operations';
import { PIPELINE_OUTPUTS, REPOSITORY_OUTPUTS } from './output-names';
import { namedOutput } from './outputs';
import { PlatformStack } from './platform-stack';
import { movePreviousAddresses } from './previous-addresses';
import { ITERATOR_AGE_ALARM_MS, ReadingStream } from './reading-stream';
import { RecipientGroups } from './recipient-groups';
import { StreamConsumers } from './stream-consumers';
import { WebCapacity } from './web-capacity';
import { WebLoadBalancer, type WebHttps } from './web-load-balancer';
import { WebService } from './web-service';
import { WebSignIn } from './web-sign-in';
import { webCpuUnits, webSignInMethod, WEB_CLOSED_NOTICE } from './web-settings';
import { PROJECT_ROOT } from '../build/project-root';

/** Where synth writes the handler bundles before they become assets (git-ignored). */
export const HANDLER_BUILD_DIR = path.join(PROJECT_ROOT, 'dist', 'handlers');

export interface PipelineStackOptions {
  /** Handler packages already built (tests share one build). @default built into HANDLER_BUILD_DIR */
  readonly handlerPackages?: Readonly<Record<HandlerName, PackagedHandler>>;
}

/**
 * The data path and its surroundings: ingest API → stream → consumers and archive, tables,
 * alerts, the web app on ECS, and the operations topic and dashboard that every alarm
 * (each beside what it watches) reports to. The image comes from the repository stack's state.
 */
export class PipelineStack extends PlatformStack {
  public readonly ingest: IngestApi;
  public readonly webService: WebService;
  public readonly webLoadBalancer: WebLoadBalancer;

  constructor(scope: Construct, config: PlatformConfig, options: PipelineStackOptions = {}) {
    super(scope, 'pipeline', config);
    const names = sharedNames(config);
    const prefix = resourceName(config, 'iot');
    const retention = config.logRetentionDays;
    const accountId = new DataAwsCallerIdentity(this, 'account').accountId;
    const repository = remoteState(this, 'repository-state', config.backend, 'repository');
    const packages = options.handlerPackages ?? packageHandlers(HANDLER_BUILD_DIR);
    const rollupDays = { hour: config.rollups.hourRetentionDays, day: config.rollups.dayRetentionDays };

    const operations = new Operations(this, 'operations', { namePrefix: prefix, notificationEmails: config.operations.emails, accountId });
    const { alarmActions } = operations;
    const key = new DataKey(this, 'data-key', { aliasName: `${prefix}-data`, description: 'Encrypts the readings stream, failure queue, alert topic and archive' });
    const data = new DataTables(this, 'tables', {
      names: { things: names.thingsTable, thresholds: names.thresholdsTable, alerts: names.alertsTable, series: names.seriesTable, rollups: names.rollupsTable },
      billingMode: config.tables.billingMode,
      readCapacity: config.tables.readCapacity,
      writeCapacity: config.tables.writeCapacity,
      deletionProtection: config.tables.deletionProtection,
      alarmActions,
    });
    const { tables } = data;
    const alerts = new AlertTopic(this, 'alert-topic', { name: names.alertTopic, kmsKeyArn: key.arn, emails: config.alerts.emails });
    const recipients = new RecipientGroups(this, 'recipient-groups', { topicNamePrefix: names.alertTopic, kmsKeyArn: key.arn, groups: config.alerts.recipientGroups });
    const stream = new ReadingStream(this, 'stream', { name: names.stream, kmsKeyArn: key.arn, ...config.stream, alarmActions });
    const consumers = new StreamConsumers(this, 'consumers', {
      namePrefix: prefix,
      failureQueueName: names.failureQueue,
      stream,
      kmsKeyArn: key.arn,
      tables,
      alertTopicArn: alerts.arn,
      recipientTopicArns: recipients.topicArns,
      packages,
      logRetentionDays: retention,
      ...config.consumers,
      alertCooldownSeconds: config.alerts.cooldownSeconds,
      hotRetentionDays: config.tables.hotRetentionDays,
      rollupRetentionDays: rollupDays,
      alarmActions,
    });
    this.ingest = new IngestApi(this, 'ingest-api', {
      name: `${prefix}-ingest`,
      region: config.region,
      streamName: names.stream,
      streamArn: stream.arn,
      kmsKeyArn: key.arn,
      batchBuckets: batchBuckets(config.stream),
      logRetentionDays: retention,
      ...config.api,
      alarmActions,
    });
    const noData = new NoDataCheck(this, 'no-data-check', {
      namePrefix: prefix,
      package: packages['no-data-alerts'],
      tables,
      alertTopicArn: alerts.arn,
      recipientTopicArns: recipients.topicArns,
      kmsKeyArn: key.arn,
      accountId,
      logRetentionDays: retention,
      intervalMinutes: config.alerts.noDataCheckMinutes,
      hotRetentionDays: config.tables.hotRetentionDays,
      rollupRetentionDays: rollupDays,
      alarmActions,
    });
    const processor = new ArchiveProcessor(this, 'archive-processor', { namePrefix: prefix, package: packages['archive-flatten'], logRetentionDays: retention, alarmActions });
    const archive = new Archive(this, 'archive', {
      name: `${prefix}-archive`,
      streamArn: stream.arn,
      kmsKeyArn: key.arn,
      logRetentionDays: retention,
      accountId,
      processorArn: processor.functionArn,
      ...config.archive,
    });
    const query = new ArchiveQuery(this, 'archive-query', { namePrefix: prefix, archiveBucketName: archive.bucketName, archiveBucketArn: archive.bucketArn, kmsKeyArn: key.arn, ...config.query });

    const network = new Network(this, 'network', {
      namePrefix: prefix,
      ...(config.network.vpcId === undefined ? { vpcCidr: config.network.vpcCidr } : { existing: { vpcId: config.network.vpcId, subnetIds: config.network.subnetIds } }),
    });
    const webName = `${prefix}-web`;
    const capacity = new WebCapacity(this, 'web-capacity', {
      name: webName,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      ...config.cluster,
      ssh: config.network.sshKeyName !== undefined && config.network.sshCidr !== undefined ? { keyName: config.network.sshKeyName, cidr: config.network.sshCidr } : undefined,
    });
    const signInMethod = webSignInMethod(config);
    const https: WebHttps | undefined =
      config.network.certificateArn === undefined || config.web.domainName === undefined
        ? undefined
        : {
            certificateArn: config.network.certificateArn,
            domainName: config.web.domainName,
            signIn: signInMethod === undefined ? undefined : new WebSignIn(this, 'web-sign-in', { name: webName, domainName: config.web.domainName, accountId, method: signInMethod }).action,
          };
    this.webLoadBalancer = new WebLoadBalancer(this, 'web-load-balancer', {
      name: webName,
      region: config.region,
      accountId,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      instanceSecurityGroupId: capacity.instanceSecurityGroupId,
      containerPort: config.web.containerPort,
      healthCheckPath: config.web.healthCheckPath,
      https,
      allowedCidrs: config.web.allowedCidrs,
      accessLogRetentionDays: retention,
      alarmActions,
    });
    // A cdktf warning, without the stack trace Annotations would record (it names this machine's paths).
    if (this.webLoadBalancer.reach === 'nobody') this.webLoadBalancer.node.addMetadata(AnnotationMetadataEntryType.WARN, WEB_CLOSED_NOTICE);
    this.webService = new WebService(this, 'web-service', {
      name: webName,
      region: config.region,
      clusterId: capacity.clusterId,
      capacityProviderName: capacity.capacityProviderName,
      capacityAssociation: capacity.clusterCapacityProviders,
      image: {
        repositoryUrl: repository.getString(REPOSITORY_OUTPUTS.repositoryUrl),
        repositoryName: repository.getString(REPOSITORY_OUTPUTS.repositoryName),
        repositoryArn: repository.getString(REPOSITORY_OUTPUTS.repositoryArn),
        tag: config.web.imageTag,
      },
      targetGroupArn: this.webLoadBalancer.targetGroupArn,
      listener: this.webLoadBalancer.trafficListener,
      containerPort: config.web.containerPort,
      memoryMiB: config.web.memoryMiB,
      cpuUnits: webCpuUnits(config),
      desiredTasks: config.web.desiredTasks,
      logRetentionDays: retention,
      tableArns: Object.values(tables).map((table) => table.arn),
      indexArns: Object.values(tables.alerts.indexArns),
      changeGrants: [
        // Acknowledging marks the series' thresholds item and the alert's opening notice;
        // setting a rule updates the rule's attributes of the thresholds item.
        { sid: 'AcknowledgeAlertsSetRules', actions: ['dynamodb:UpdateItem'], resources: [tables.thresholds.arn, tables.alerts.arn] },
        // Silences and rule-change records are new items of the alerts table.
        { sid: 'RecordSilencesRuleChanges', actions: ['dynamodb:PutItem'], resources: [tables.alerts.arn] },
      ],
      environment: {
        [HANDLER_ENV.thingsTable]: tables.things.name,
        [HANDLER_ENV.thresholdsTable]: tables.thresholds.name,
        [HANDLER_ENV.alertsTable]: tables.alerts.name,
        [HANDLER_ENV.seriesTable]: tables.series.name,
        [HANDLER_ENV.rollupsTable]: tables.rollups.name,
        // The API's `step=auto` picks only steps still kept for the start of a range.
        ...retentionEnvironment(rollupDays),
        // Changes are made by the user the load balancer signed in, or by nobody.
        ...(this.webLoadBalancer.signsIn ? { [IDENTITY_ENV.mode]: 'load-balancer', [IDENTITY_ENV.loadBalancerArn]: this.webLoadBalancer.arn } : { [IDENTITY_ENV.mode]: 'none' }),
      },
    });

    const dashboardName = operations.addDashboard({
      region: config.region,
      apiName: this.ingest.restApiName,
      apiStageName: this.ingest.stageName,
      streamName: stream.name,
      consumerFunctions: consumers.functionNames,
      failureQueueName: consumers.failureQueueName,
      tables: Object.fromEntries(Object.entries(tables).map(([tableKey, table]) => [tableKey, table.name])),
      iteratorAgeThresholdMs: ITERATOR_AGE_ALARM_MS,
      loadBalancerArnSuffix: this.webLoadBalancer.loadBalancerArnSuffix,
      alarmArns: [...stream.alarmArns, ...consumers.alarmArns, ...noData.alarmArns, ...this.ingest.alarmArns, ...data.alarmArns, ...this.webLoadBalancer.alarmArns, ...processor.alarmArns],
    });

    const output = (name: string, value: string, description: string, sensitive = false) => namedOutput(this, name, value, description, sensitive);
    output(PIPELINE_OUTPUTS.apiInvokeUrl, this.ingest.invokeUrl, 'Invoke URL of the ingest API stage prod');
    output(PIPELINE_OUTPUTS.ingestUrl, this.ingest.ingestUrl, 'PUT one reading here ({"Data": {...}}, header x-api-key)');
    output(PIPELINE_OUTPUTS.batchIngestUrl, this.ingest.batchIngestUrl, 'POST up to 500 readings here ({"Data": [...]}, header x-api-key)');
    output(PIPELINE_OUTPUTS.apiKeyId, this.ingest.apiKeyId, 'Id of the devices\' API key (aws apigateway get-api-key --include-value --api-key <id>)');
    output(PIPELINE_OUTPUTS.apiKey, this.ingest.apiKeyValue, 'The devices\' API key (terraform output -raw api_key)', true);
    output(PIPELINE_OUTPUTS.usagePlanId, this.ingest.usagePlanId, 'Usage plan of the device keys (npm run devices -- add <device>)');
    output(PIPELINE_OUTPUTS.webUrl, this.webLoadBalancer.webUrl, 'URL of the web app');
    output(PIPELINE_OUTPUTS.webLoadBalancerDnsName, this.webLoadBalancer.dnsName, 'DNS name of the web load balancer: point web.domainName at it (CNAME or alias record)');
    output(PIPELINE_OUTPUTS.imageUrl, this.webService.imageReference, 'Image the web service runs: the repository URL and the digest web.imageTag named at the last deploy');
    output(PIPELINE_OUTPUTS.clusterName, capacity.clusterName, 'Name of the ECS cluster (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.serviceName, this.webService.serviceName, 'Name of the web ECS service (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.autoScalingGroupName, capacity.autoScalingGroupName, 'Name of the cluster\'s Auto Scaling group (read by the scaling stack)');
    output(PIPELINE_OUTPUTS.streamName, stream.name, 'Name of the Kinesis stream of readings');
    output(PIPELINE_OUTPUTS.thingsTable, tables.things.name, 'DynamoDB table of readings');
    output(PIPELINE_OUTPUTS.thresholdsTable, tables.thresholds.name, 'DynamoDB table of thresholds and alert state');
    output(PIPELINE_OUTPUTS.alertsTable, tables.alerts.name, 'DynamoDB table of alerts sent');
    output(PIPELINE_OUTPUTS.seriesTable, tables.series.name, 'DynamoDB series catalogue (latest reading per series)');
    output(PIPELINE_OUTPUTS.rollupsTable, tables.rollups.name, 'DynamoDB rollups (count, min, max, mean per series and minute, hour, day)');
    output(PIPELINE_OUTPUTS.alertTopicArn, alerts.arn, 'SNS topic of threshold alerts');
    output(PIPELINE_OUTPUTS.operationsTopicArn, operations.topicArn, 'SNS topic of operational alarms');
    output(PIPELINE_OUTPUTS.failureQueueUrl, consumers.failureQueueUrl, 'SQS queue of records the consumers could not process');
    output(PIPELINE_OUTPUTS.archiveBucket, archive.bucketName, 'S3 bucket of the gzipped JSON-lines archive');
    output(PIPELINE_OUTPUTS.dashboardName, dashboardName, 'CloudWatch dashboard of the pipeline');
    output(PIPELINE_OUTPUTS.queryWorkgroup, query.workgroupName, 'Athena workgroup for SQL over the archive (npm run query)');
    output(PIPELINE_OUTPUTS.queryDatabase, query.databaseName, 'Glue database of the archive table');
    output(PIPELINE_OUTPUTS.queryTable, query.tableName, 'Glue table of archived readings');
    output(PIPELINE_OUTPUTS.queryResultsLocation, query.resultsLocation, 'Where Athena writes query results (encrypted, expiring)');
    output(PIPELINE_OUTPUTS.queryPolicyArn, query.queryPolicyArn, 'IAM policy to attach to whoever runs SQL over the archive');

    movePreviousAddresses(this, config);
  }
}
