/**
 * The stacks' names, where they are synthesized, and the names of the outputs they
 * publish: plain constants, free of cdktf, so the command-line tools that read a
 * deployment's outputs load in a fraction of the time the stacks take. stacks/outputs.ts
 * re-exports them for the stacks and the contract test.
 */

/** Where `npm run synth` and `cdktf` write the stacks, relative to the project root (see cdktf.json). */
export const SYNTH_OUTDIR = 'cdktf.out';

/** In deploy order: each stack reads the state of the ones before it. */
export const STACK_NAMES = ['repository', 'pipeline', 'scaling'] as const;
export type StackName = (typeof STACK_NAMES)[number];

export const REPOSITORY_OUTPUTS = {
  repositoryUrl: 'repository_url',
  repositoryArn: 'repository_arn',
  repositoryName: 'repository_name',
} as const;

export const PIPELINE_OUTPUTS = {
  apiInvokeUrl: 'api_invoke_url',
  ingestUrl: 'ingest_url',
  batchIngestUrl: 'batch_ingest_url',
  apiKeyId: 'api_key_id',
  apiKey: 'api_key',
  usagePlanId: 'usage_plan_id',
  webUrl: 'web_url',
  webLoadBalancerDnsName: 'web_load_balancer_dns_name',
  imageUrl: 'image_url',
  clusterName: 'cluster_name',
  serviceName: 'service_name',
  autoScalingGroupName: 'autoscaling_group_name',
  streamName: 'stream_name',
  thingsTable: 'things_table_name',
  thresholdsTable: 'thresholds_table_name',
  alertsTable: 'alerts_table_name',
  seriesTable: 'series_table_name',
  rollupsTable: 'rollups_table_name',
  alertTopicArn: 'alert_topic_arn',
  operationsTopicArn: 'operations_topic_arn',
  failureQueueUrl: 'failure_queue_url',
  archiveBucket: 'archive_bucket_name',
  dashboardName: 'dashboard_name',
  queryWorkgroup: 'query_workgroup',
  queryDatabase: 'query_database',
  queryTable: 'query_table',
  queryResultsLocation: 'query_results_location',
  queryPolicyArn: 'query_policy_arn',
} as const;

export const SCALING_OUTPUTS = {
  scalableTargetResourceId: 'scalable_target_resource_id',
  scaleOutAlarmName: 'scale_out_alarm_name',
  scaleInAlarmName: 'scale_in_alarm_name',
} as const;
