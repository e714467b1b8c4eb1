import { Lazy, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ApiGatewayAccount } from '@cdktf/provider-aws/lib/api-gateway-account';
import { ApiGatewayApiKey } from '@cdktf/provider-aws/lib/api-gateway-api-key';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayGatewayResponse } from '@cdktf/provider-aws/lib/api-gateway-gateway-response';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayIntegrationResponse } from '@cdktf/provider-aws/lib/api-gateway-integration-response';
import { ApiGatewayMethod } from '@cdktf/provider-aws/lib/api-gateway-method';
import { ApiGatewayMethodResponse } from '@cdktf/provider-aws/lib/api-gateway-method-response';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayModel } from '@cdktf/provider-aws/lib/api-gateway-model';
import { ApiGatewayRequestValidator } from '@cdktf/provider-aws/lib/api-gateway-request-validator';
import { ApiGatewayResource } from '@cdktf/provider-aws/lib/api-gateway-resource';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { ApiGatewayUsagePlan } from '@cdktf/provider-aws/lib/api-gateway-usage-plan';
import { ApiGatewayUsagePlanKey } from '@cdktf/provider-aws/lib/api-gateway-usage-plan-key';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicy } from '@cdktf/provider-aws/lib/data-aws-iam-policy';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { READING_LIMITS } from '../handlers/reading-patterns';
import { batchIngestBodySchema, singleIngestBodySchema, type JsonSchema } from '../handlers/reading-schema';
import { AT_LEAST_ONCE, notifyingAlarm } from './alarm';
import { definitionHash } from './api-definition';
import { BATCH_PATH, INGEST_PATH, STAGE_NAME } from './ingest-paths';
import {
  ACCESS_LOG_FORMAT,
  clientErrorResponse,
  putRecordResponse,
  putRecordTemplate,
  putRecordsResponse,
  putRecordsTemplate,
  serverErrorResponse,
} from './ingest-templates';
import { ServiceRole } from './service-role';
import { INGEST_API_LIMITS } from './construct-defaults';
export { INGEST_API_LIMITS } from './construct-defaults';

export interface IngestApiProps {
  /** Name of the REST API. */
  readonly name: string;
  readonly region: string;
  /** Stream name as configured: it is written into the mapping templates. */
  readonly streamName: string;
  readonly streamArn: string;
  /** Key of the stream; PutRecord on an encrypted stream needs kms:GenerateDataKey. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Buckets readings are placed in by thing id, each on one hash key, by both endpoints (see batchBuckets in construct-defaults.ts). */
  readonly batchBuckets: number;
  /** Steady requests per second, per API key and for the whole stage. @default INGEST_API_LIMITS.rateLimit.default */
  readonly rateLimit?: number;
  /** @default INGEST_API_LIMITS.burstLimit.default */
  readonly burstLimit?: number;
  /** Requests per day per API key. @default INGEST_API_LIMITS.quotaPerDay.default */
  readonly quotaPerDay?: number;
  /**
   * Set the region's API Gateway logging role. It is one setting per account and region,
   * shared by every REST API there (the execution logs need it): turn this off when the
   * account already has a role, or this stack replaces it and destroying the stack leaves
   * the others without one.
   * @default true
   */
  readonly manageAccountLoggingRole?: boolean;
  /** Notified when the API answers with server errors, and on recovery. */
  readonly alarmActions: readonly string[];
}



/** Status codes the ingest methods answer with. */
const STATUSES = ['200', '400', '429', '500', '503'] as const;

interface MethodSpec {
  readonly id: string;
  readonly resource: ApiGatewayResource;
  readonly httpMethod: string;
  readonly action: 'PutRecord' | 'PutRecords';
  readonly model: JsonSchema;
  readonly requestTemplate: string;
  readonly successTemplate: string;
}

/**
 * The ingest REST API: `PUT /thingsstream` puts one reading with Kinesis
 * PutRecord, `POST /thingsstream/batch` puts up to 500 with PutRecords, both as AWS
 * service integrations (no Lambda in between). Bodies are validated against models
 * generated from the shared schema; devices authenticate with an API key under a usage
 * plan; Kinesis errors become 4xx/5xx answers. Stage `prod` with access logs, metrics,
 * throttling and an alarm on server errors; any change of the API's definition redeploys it.
 */
export class IngestApi extends Construct {
  public readonly restApiId: string;
  public readonly restApiName: string;
  public readonly stageName: string;
  /** `https://<id>.execute-api.<region>.amazonaws.com/prod` */
  public readonly invokeUrl: string;
  public readonly ingestUrl: string;
  public readonly batchIngestUrl: string;
  public readonly apiKeyId: string;
  public readonly apiKeyValue: string;
  /** The usage plan device keys join (`npm run devices -- add`). */
  public readonly usagePlanId: string;
  /** SHA-256 of the synthesized attributes of every resource a deployment snapshots; a new deployment is made when it changes. */
  public readonly definitionHash: string;
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? INGEST_API_LIMITS.rateLimit.default;
    const burstLimit = props.burstLimit ?? INGEST_API_LIMITS.burstLimit.default;
    const quotaPerDay = props.quotaPerDay ?? INGEST_API_LIMITS.quotaPerDay.default;

    const partition = new DataAwsPartition(this, 'partition');
    const api = new ApiGatewayRestApi(this, 'rest-api', {
      name: props.name,
      description: 'Sensors PUT readings here; they go straight to the Kinesis stream',
      endpointConfiguration: { types: ['REGIONAL'] },
      apiKeySource: 'HEADER',
    });
    const ingest = new ApiGatewayResource(this, 'ingest-resource', { restApiId: api.id, parentId: api.rootResourceId, pathPart: INGEST_PATH });
    const batch = new ApiGatewayResource(this, 'batch-resource', { restApiId: api.id, parentId: ingest.id, pathPart: BATCH_PATH });
    const validator = new ApiGatewayRequestValidator(this, 'body-validator', { restApiId: api.id, name: 'validate-body', validateRequestBody: true, validateRequestParameters: false });

    const role = new ServiceRole(this, 'integration-role', {
      roleName: `${props.name}-to-kinesis`,
      service: 'apigateway.amazonaws.com',
      description: 'Lets the ingest API put records on the readings stream, and nothing else',
      grants: [
        { sid: 'PutReadings', actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resources: [props.streamArn] },
        { sid: 'EncryptReadings', actions: ['kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
      ],
    });

    const methods: MethodSpec[] = [
      {
        id: 'put-reading',
        resource: ingest,
        httpMethod: 'PUT',
        action: 'PutRecord',
        model: singleIngestBodySchema,
        requestTemplate: putRecordTemplate(props.streamName, props.batchBuckets),
        successTemplate: putRecordResponse,
      },
      {
        id: 'post-batch',
        resource: batch,
        httpMethod: 'POST',
        action: 'PutRecords',
        model: batchIngestBodySchema,
        requestTemplate: putRecordsTemplate(props.streamName, props.batchBuckets),
        successTemplate: putRecordsResponse,
      },
    ];

    // Gateway responses are not Velocity templates: API Gateway substitutes `$context`
    // variables as plain text and evaluates nothing (no `$util`, no `#if`).
    // `$context.error.messageString` is the message already JSON-quoted, `$context.requestId`
    // a UUID. `$context.error.validationErrorString` is the validator's raw text: it holds
    // double quotes and pieces of the request, which no place in a JSON document takes
    // unescaped, so it stays in the access log and the body points there by request id.
    const putReadingRoute = `PUT /${STAGE_NAME}/${INGEST_PATH}`;
    const postBatchRoute = `POST /${STAGE_NAME}/${INGEST_PATH}/${BATCH_PATH}`;
    const withDetails = (details: string): string => `{"message": $context.error.messageString, "details": ${JSON.stringify(details)}, "requestId": "$context.requestId"}`;
    const badRequestBody = {
      message: 'the body does not match the reading schema',
      details:
        `${putReadingRoute} takes {"Data": {reading}}, ${postBatchRoute} takes {"Data": [1 to ${READING_LIMITS.maxBatchReadings} readings]}, nothing beside "Data". ` +
        `A reading has "id" (1 to ${READING_LIMITS.maxIdLength} characters, not blank, no control characters), "timestamp" ` +
        '(ISO 8601 or "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, or epoch milliseconds) and 1 to ' +
        `${READING_LIMITS.maxMetrics} metrics named [A-Za-z_][A-Za-z0-9_.-]* (at most 64 characters), each a number or a decimal string. ` +
        "The validator's exact finding is in the API's access log under this requestId.",
    };
    const gatewayResponses = {
      BAD_REQUEST_BODY: { statusCode: '400', template: withDetails(`${badRequestBody.message}: ${badRequestBody.details}`) },
      MISSING_AUTHENTICATION_TOKEN: {
        statusCode: undefined,
        template: withDetails(`no resource answers $context.httpMethod at this path: send readings with ${putReadingRoute} (one) or ${postBatchRoute} (up to ${READING_LIMITS.maxBatchReadings}), with the API key in the x-api-key header`),
      },
      INVALID_API_KEY: { statusCode: undefined, template: withDetails('send a valid API key in the x-api-key header') },
      UNSUPPORTED_MEDIA_TYPE: { statusCode: undefined, template: withDetails('send the body as application/json') },
      REQUEST_TOO_LARGE: { statusCode: undefined, template: withDetails(`the body is over 10 MB, API Gateway's limit: send at most ${READING_LIMITS.maxBatchReadings} readings per batch`) },
      THROTTLED: { statusCode: undefined, template: withDetails('over the rate limit: retry with exponential backoff') },
      QUOTA_EXCEEDED: { statusCode: undefined, template: withDetails("this API key's daily quota is used up") },
      DEFAULT_4XX: { statusCode: undefined, template: '{"message": $context.error.messageString}' },
      DEFAULT_5XX: { statusCode: undefined, template: '{"message": $context.error.messageString}' },
    };

    const dependencies: ITerraformDependable[] = [];
    for (const spec of methods) {
      const model = new ApiGatewayModel(this, `${spec.id}-model`, {
        restApiId: api.id,
        name: String(spec.model.title),
        contentType: 'application/json',
        description: spec.action === 'PutRecords' ? `Up to ${READING_LIMITS.maxBatchReadings} readings` : 'One reading',
        schema: JSON.stringify(spec.model),
      });
      const method = new ApiGatewayMethod(this, spec.id, {
        restApiId: api.id,
        resourceId: spec.resource.id,
        httpMethod: spec.httpMethod,
        authorization: 'NONE',
        apiKeyRequired: true,
        requestValidatorId: validator.id,
        requestModels: { 'application/json': model.name },
      });
      const integration = new ApiGatewayIntegration(this, `${spec.id}-integration`, {
        restApiId: api.id,
        resourceId: spec.resource.id,
        httpMethod: method.httpMethod,
        type: 'AWS',
        integrationHttpMethod: 'POST',
        uri: `arn:${partition.partition}:apigateway:${props.region}:kinesis:action/${spec.action}`,
        credentials: role.arn,
        // Anything but JSON is refused (415) rather than passed to Kinesis unchecked.
        passthroughBehavior: 'NEVER',
        requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
        requestTemplates: { 'application/json': spec.requestTemplate },
      });
      const responses = STATUSES.map(
        (statusCode) => new ApiGatewayMethodResponse(this, `${spec.id}-${statusCode}`, { restApiId: api.id, resourceId: spec.resource.id, httpMethod: method.httpMethod, statusCode }),
      );
      const integrationResponse = (suffix: string, statusCode: string, template: string, selectionPattern?: string) =>
        new ApiGatewayIntegrationResponse(this, `${spec.id}-integration-${suffix}`, {
          restApiId: api.id,
          resourceId: spec.resource.id,
          httpMethod: method.httpMethod,
          statusCode,
          selectionPattern,
          responseTemplates: { 'application/json': template },
          dependsOn: [integration, ...responses],
        });
      dependencies.push(
        method,
        integration,
        integrationResponse('ok', '200', spec.successTemplate),
        integrationResponse('client-error', '500', clientErrorResponse, '4\\d{2}'),
        integrationResponse('server-error', '503', serverErrorResponse, '5\\d{2}'),
      );
    }

    for (const [responseType, response] of Object.entries(gatewayResponses)) {
      dependencies.push(
        new ApiGatewayGatewayResponse(this, `gateway-${responseType.toLowerCase().replace(/_/g, '-')}`, {
          restApiId: api.id,
          responseType,
          statusCode: response.statusCode,
          responseTemplates: { 'application/json': response.template },
        }),
      );
    }

    // Taken when the stack is synthesized, over every resource's final attributes (overrides included).
    this.definitionHash = Lazy.stringValue({ produce: () => definitionHash(this) });
    const deployment = new ApiGatewayDeployment(this, 'deployment', {
      restApiId: api.id,
      description: Lazy.stringValue({ produce: () => `Definition ${definitionHash(this).slice(0, 12)}` }),
      triggers: { definition: this.definitionHash },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: dependencies,
    });

    const accessLogs = new CloudwatchLogGroup(this, 'access-logs', { name: `/aws/apigateway/${props.name}/access`, retentionInDays: props.logRetentionDays });
    // API Gateway writes execution logs to this group; creating it first gives it a retention.
    new CloudwatchLogGroup(this, 'execution-logs', { name: `API-Gateway-Execution-Logs_${api.id}/${STAGE_NAME}`, retentionInDays: props.logRetentionDays });
    const account = props.manageAccountLoggingRole === false ? undefined : this.accountLoggingRole(props.name);

    const stage = new ApiGatewayStage(this, 'stage', {
      restApiId: api.id,
      stageName: STAGE_NAME,
      deploymentId: deployment.id,
      accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      dependsOn: account === undefined ? [] : [account],
    });
    new ApiGatewayMethodSettings(this, 'stage-settings', {
      restApiId: api.id,
      stageName: stage.stageName,
      methodPath: '*/*',
      settings: { metricsEnabled: true, loggingLevel: 'ERROR', dataTraceEnabled: false, throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit },
    });

    const plan = new ApiGatewayUsagePlan(this, 'usage-plan', {
      name: `${props.name}-devices`,
      description: 'Throttling and daily quota for each device API key',
      apiStages: [{ apiId: api.id, stage: stage.stageName }],
      throttleSettings: { rateLimit, burstLimit },
      quotaSettings: { limit: quotaPerDay, period: 'DAY' },
    });
    const key = new ApiGatewayApiKey(this, 'device-key', { name: `${props.name}-devices`, description: 'API key of the sensors (header x-api-key)', enabled: true });
    new ApiGatewayUsagePlanKey(this, 'device-key-plan', { keyId: key.id, keyType: 'API_KEY', usagePlanId: plan.id });

    this.restApiId = api.id;
    this.restApiName = api.name;
    this.stageName = stage.stageName;
    this.invokeUrl = stage.invokeUrl;
    this.ingestUrl = `${stage.invokeUrl}/${INGEST_PATH}`;
    this.batchIngestUrl = `${stage.invokeUrl}/${INGEST_PATH}/${BATCH_PATH}`;
    this.apiKeyId = key.id;
    this.apiKeyValue = key.value;
    this.usagePlanId = plan.id;

    const serverErrors = notifyingAlarm(this, 'server-errors-alarm', {
      ...AT_LEAST_ONCE,
      alarmName: `${props.name}-5xx`,
      alarmDescription: 'The ingest API answered with server errors (readings may have been refused)',
      namespace: 'AWS/ApiGateway',
      metricName: '5XXError',
      dimensions: { ApiName: api.name, Stage: stage.stageName },
    }, props.alarmActions);
    this.alarmArns = [serverErrors.arn];
  }

  /**
   * The region-wide role API Gateway writes CloudWatch logs with. It serves every API of
   * the account in the region, so it carries AWS's managed policy for that purpose
   * rather than a policy naming this API's log groups.
   */
  private accountLoggingRole(name: string): ApiGatewayAccount {
    const trust = new DataAwsIamPolicyDocument(this, 'logging-trust', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['apigateway.amazonaws.com'] }] }],
    });
    const role = new IamRole(this, 'logging-role', { name: `${name}-cloudwatch-logs`, description: 'API Gateway account setting: writes API logs', assumeRolePolicy: trust.json });
    const managed = new DataAwsIamPolicy(this, 'logging-policy', { name: 'AmazonAPIGatewayPushToCloudWatchLogs' });
    const attachment = new IamRolePolicyAttachment(this, 'logging-policy-attachment', { role: role.name, policyArn: managed.arn });
    return new ApiGatewayAccount(this, 'logging-account-setting', { cloudwatchRoleArn: role.arn, dependsOn: [attachment] });
  }
}

