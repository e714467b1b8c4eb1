/** The alerting parts of the pipeline stack: recipient groups, the no-data check on its schedule, the fleet index. */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { Testing } from 'cdktf';
import { definePlatform } from '../../stacks/platform';
import { configOf, handlerPackages, policyStatements, ref, resource, resources, type TerraformJson } from './synth-helpers';

function synth(input: Record<string, unknown> = {}): TerraformJson & { text: string } {
  const { pipeline } = definePlatform(Testing.app(), configOf(input), { handlerPackages: handlerPackages() });
  const text = Testing.synth(pipeline);
  return { ...(JSON.parse(text) as TerraformJson), text };
}

/** The default configuration's pipeline stack, synthesized once for the file. */
const defaults = synth();

const grants = (json: TerraformJson, roleId: string) =>
  Object.fromEntries(policyStatements(json, resource(json, 'aws_iam_role_policy', roleId).policy).map((statement) => [statement.sid, { actions: statement.actions, resources: statement.resources }]));

describe('the no-data check', () => {
  const json = defaults;

  it('runs every minute on an EventBridge Scheduler schedule that may invoke this function only', () => {
    expect(json.text).toHaveResourceWithProperties(SchedulerSchedule, {
      name: 'iot-no-data-check',
      schedule_expression: 'rate(1 minute)',
      flexible_time_window: expect.objectContaining({ mode: 'OFF' }),
      target: expect.objectContaining({
        arn: ref('aws_lambda_function', 'no-data-check_function', 'arn'),
        role_arn: ref('aws_iam_role', 'no-data-check_schedule-role_role', 'arn'),
        retry_policy: expect.objectContaining({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 }),
      }),
    });
    expect(grants(json, 'no-data-check_schedule-role_policy')).toEqual({ InvokeCheck: { actions: ['lambda:InvokeFunction'], resources: [ref('aws_lambda_function', 'no-data-check_function', 'arn')] } });
    expect(json.text).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: [
        expect.objectContaining({
          principals: [expect.objectContaining({ type: 'Service', identifiers: ['scheduler.amazonaws.com'] })],
          condition: [expect.objectContaining({ test: 'StringEquals', variable: 'aws:SourceAccount' })],
        }),
      ],
    });
  });

  it('reads the rules and the catalogue, keeps alert state, records and publishes, writes silent series\' open minutes, and nothing else', () => {
    const table = (key: string) => ref('aws_dynamodb_table', `tables_${key}`, 'arn');
    expect(grants(json, 'no-data-check_role_policy')).toMatchObject({
      ReadRulesKeepAlertState: { actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [table('thresholds')] },
      ReadLatestReadings: { actions: ['dynamodb:Scan', 'dynamodb:UpdateItem'], resources: [table('series')] },
      CountOpenMinutes: { actions: ['dynamodb:Query'], resources: [table('things')] },
      WriteOpenMinutes: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], resources: [table('rollups')] },
      RecordAlerts: { actions: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [table('alerts')] },
      PublishAlerts: { actions: ['sns:Publish'], resources: [ref('aws_sns_topic', 'alert-topic_topic', 'arn')] },
    });
  });

  it('takes its interval from the configuration', () => {
    expect(resource(synth({ alerts: { noDataCheckMinutes: 5 } }), 'aws_scheduler_schedule', 'no-data-check_schedule').schedule_expression).toBe('rate(5 minutes)');
  });
});

describe('recipient groups', () => {
  const json = synth({ alerts: { recipientGroups: { 'plant-7': { emails: ['p7@example.com'], sms: ['+441632960000'], webhooks: ['https://hooks.example.com/p7'] } } } });
  const topic = ref('aws_sns_topic', 'recipient-groups_plant-7_topic', 'arn');

  it('give each group an encrypted topic with a subscription per address, number and webhook', () => {
    expect(json.text).toHaveResourceWithProperties(SnsTopic, { name: 'iot-alerts-plant-7', kms_master_key_id: expect.stringContaining('aws_kms_key') });
    const subscriptions = Object.values(resources(json, 'aws_sns_topic_subscription')).filter((subscription) => subscription.topic_arn === topic);
    expect(subscriptions.map((subscription) => [subscription.protocol, subscription.endpoint]).sort()).toEqual([
      ['email', 'p7@example.com'],
      ['https', 'https://hooks.example.com/p7'],
      ['sms', '+441632960000'],
    ]);
  });

  it('tell the functions that publish alerts the group topics, and let them publish there', () => {
    for (const [fn, role] of [['consumers_threshold-alerts', 'consumers_threshold-alerts-role_policy'], ['no-data-check_function', 'no-data-check_role_policy']] as const) {
      const environment = (resource(json, 'aws_lambda_function', fn).environment as { variables: Record<string, string> }).variables;
      expect(JSON.parse(environment.ALERT_RECIPIENT_TOPIC_ARNS ?? '{}')).toEqual({ 'plant-7': topic });
      expect(grants(json, role).PublishAlerts?.resources).toEqual([ref('aws_sns_topic', 'alert-topic_topic', 'arn'), topic]);
    }
  });
});

it('gives the alerts table the fleet index', () => {
  expect(defaults.text).toHaveResourceWithProperties(DynamodbTable, {
    name: 'iot-alerts',
    attribute: [{ name: 'ThingID', type: 'S' }, { name: 'Timestamp', type: 'S' }, { name: 'FleetKey', type: 'S' }, { name: 'FleetSort', type: 'S' }],
    global_secondary_index: [expect.objectContaining({ name: 'fleet', hash_key: 'FleetKey', range_key: 'FleetSort', projection_type: 'ALL' })],
  });
});
