import type { TerraformStack } from 'cdktf';
import { ApiGatewayGatewayResponse } from '@cdktf/provider-aws/lib/api-gateway-gateway-response';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayMethod, type ApiGatewayMethodConfig } from '@cdktf/provider-aws/lib/api-gateway-method';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayModel } from '@cdktf/provider-aws/lib/api-gateway-model';
import { ApiGatewayRequestValidator } from '@cdktf/provider-aws/lib/api-gateway-request-validator';
import { ApiGatewayResource } from '@cdktf/provider-aws/lib/api-gateway-resource';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { check, expectClean, expectViolations } from '../harness';
import { logGroup } from '../fixtures';

function api(stack: TerraformStack) {
  const restApi = new ApiGatewayRestApi(stack, 'api', { name: 'ingest' });
  const resource = new ApiGatewayResource(stack, 'things', { restApiId: restApi.id, parentId: restApi.rootResourceId, pathPart: 'thingsstream' });
  const model = new ApiGatewayModel(stack, 'reading', { restApiId: restApi.id, name: 'Reading', contentType: 'application/json', schema: '{}' });
  const bodyValidator = new ApiGatewayRequestValidator(stack, 'body', { restApiId: restApi.id, name: 'body', validateRequestBody: true });
  const paramsValidator = new ApiGatewayRequestValidator(stack, 'params', { restApiId: restApi.id, name: 'params', validateRequestParameters: true });
  const method = (id: string, props: Partial<ApiGatewayMethodConfig> & { httpMethod: string }) =>
    new ApiGatewayMethod(stack, id, { restApiId: restApi.id, resourceId: resource.id, authorization: 'NONE', apiKeyRequired: true, ...props });
  return { restApi, resource, model, bodyValidator, paramsValidator, method };
}

describe('API-001 every method needs an API key or authoriser', () => {
  it('fires on an open method, and on an OPTIONS method that is not a MOCK preflight', () => {
    const report = check((stack) => {
      const { method, restApi, resource } = api(stack);
      method('open', { httpMethod: 'GET', apiKeyRequired: false });
      const options = method('options', { httpMethod: 'OPTIONS', apiKeyRequired: false });
      new ApiGatewayIntegration(stack, 'options-integration', { restApiId: restApi.id, resourceId: resource.id, httpMethod: options.httpMethod, type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri: 'https://example.org' });
    });
    expectViolations(report, 'API-001', ['aws_api_gateway_method.open', 'aws_api_gateway_method.options'], /authorization "NONE" and no API key/);
  });

  it('stays silent on API keys, authorisers and MOCK CORS preflights', () => {
    const report = check((stack) => {
      const { method, restApi, resource } = api(stack);
      method('keyed', { httpMethod: 'GET' });
      method('iam', { httpMethod: 'DELETE', apiKeyRequired: false, authorization: 'AWS_IAM' });
      const options = method('options', { httpMethod: 'OPTIONS', apiKeyRequired: false });
      new ApiGatewayIntegration(stack, 'options-integration', { restApiId: restApi.id, resourceId: resource.id, httpMethod: options.httpMethod, type: 'MOCK' });
    });
    expectClean(report, 'API-001');
  });
});

describe('API-002 request validation of bodies', () => {
  it('fires on a body method without a validator, with a validator that skips the body, or without a model', () => {
    const report = check((stack) => {
      const { method, paramsValidator, bodyValidator } = api(stack);
      method('unvalidated', { httpMethod: 'PUT', requestModels: { 'application/json': 'Reading' } });
      method('params-only', { httpMethod: 'POST', requestValidatorId: paramsValidator.id, requestModels: { 'application/json': 'Reading' } });
      method('no-model', { httpMethod: 'PATCH', requestValidatorId: bodyValidator.id });
    });
    const found = expectViolations(report, 'API-002', ['aws_api_gateway_method.unvalidated', 'aws_api_gateway_method.params-only', 'aws_api_gateway_method.no-model']);
    expect(found.find((v) => v.address.endsWith('no-model'))?.problem).toBe('PATCH has no request_models, so body validation checks nothing');
  });

  it('stays silent on validated bodies and on methods without a body', () => {
    const report = check((stack) => {
      const { method, bodyValidator, model } = api(stack);
      method('put', { httpMethod: 'PUT', requestValidatorId: bodyValidator.id, requestModels: { 'application/json': model.name } });
      method('get', { httpMethod: 'GET' });
    });
    expectClean(report, 'API-002');
  });
});

function stage(stack: TerraformStack, restApiId: string, accessLogs: boolean) {
  const group = logGroup(stack, 'access-logs', '/iot/api-access');
  return new ApiGatewayStage(stack, 'prod', {
    restApiId,
    stageName: 'prod',
    deploymentId: 'deployment',
    accessLogSettings: accessLogs ? { destinationArn: group.arn, format: '{"requestId":"$context.requestId"}' } : undefined,
  });
}

describe('API-003 stage access logs', () => {
  it('fires on a stage without access logs', () => {
    const report = check((stack) => stage(stack, api(stack).restApi.id, false));
    expectViolations(report, 'API-003', ['aws_api_gateway_stage.prod'], /destination_arn is not set/);
  });

  it('stays silent on a stage with destination and format', () => {
    expectClean(check((stack) => stage(stack, api(stack).restApi.id, true)), 'API-003');
  });
});

describe('API-004 stage metrics and throttling', () => {
  it('fires on a stage without stage-wide settings, or with metrics or throttling missing', () => {
    const missing = check((stack) => {
      const { restApi } = api(stack);
      const prod = stage(stack, restApi.id, true);
      // Settings for one method only do not cover the stage.
      new ApiGatewayMethodSettings(stack, 'one-method', { restApiId: restApi.id, stageName: prod.stageName, methodPath: 'thingsstream/PUT', settings: { metricsEnabled: true } });
    });
    expectViolations(missing, 'API-004', ['aws_api_gateway_stage.prod'], /no method settings with method_path "\*\/\*"/);

    const partial = check((stack) => {
      const { restApi } = api(stack);
      const prod = stage(stack, restApi.id, true);
      new ApiGatewayMethodSettings(stack, 'all', { restApiId: restApi.id, stageName: prod.stageName, methodPath: '*/*', settings: { throttlingRateLimit: 100, throttlingBurstLimit: -1 } });
    });
    const problems = expectViolations(partial, 'API-004', ['aws_api_gateway_stage.prod', 'aws_api_gateway_stage.prod']).map((v) => v.problem);
    expect(problems).toEqual(['stage method settings: metrics_enabled is not true', 'stage method settings: throttling_burst_limit is not a positive number']);
  });

  it('stays silent when `*/*` settings enable metrics and throttle', () => {
    const report = check((stack) => {
      const { restApi } = api(stack);
      const prod = stage(stack, restApi.id, true);
      new ApiGatewayMethodSettings(stack, 'all', { restApiId: restApi.id, stageName: prod.stageName, methodPath: '*/*', settings: { metricsEnabled: true, throttlingRateLimit: 100, throttlingBurstLimit: 200 } });
    });
    expectClean(report, 'API-004');
  });
});

describe('API-005 gateway responses use plain substitution only', () => {
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html:
  // "A GatewayResponse mapping template isn't processed by the Velocity Template Language (VTL) engine."
  const response = (stack: TerraformStack, id: string, template: string) =>
    new ApiGatewayGatewayResponse(stack, id, { restApiId: 'api', responseType: id.toUpperCase().replace(/-/g, '_'), responseTemplates: { 'application/json': template } });

  it('fires on $util and $input, method calls, quiet references and VTL directives, naming what would reach clients as text', () => {
    const report = check((stack) => {
      response(stack, 'bad-request-body', '{"details": "$util.escapeJavaScript($context.error.validationErrorString)"}');
      response(stack, 'default-4xx', '{"body": $input.json(\'$\')}');
      response(stack, 'default-5xx', '{"message": "$context.error.messageString.replaceAll(\'x\', \'y\')"}');
      response(stack, 'throttled', '#set($m = $context.error.messageString){"message": "$m"}');
      response(stack, 'quota-exceeded', '{"message": "$!context.error.messageString"}');
    });
    const found = expectViolations(report, 'API-005', [
      'aws_api_gateway_gateway_response.bad-request-body',
      'aws_api_gateway_gateway_response.default-4xx',
      'aws_api_gateway_gateway_response.default-5xx',
      'aws_api_gateway_gateway_response.throttled',
      'aws_api_gateway_gateway_response.throttled',
      'aws_api_gateway_gateway_response.quota-exceeded',
    ]);
    const problem = (address: string) => found.filter((v) => v.address === `aws_api_gateway_gateway_response.${address}`).map((v) => v.problem);
    expect(problem('bad-request-body')).toEqual(['the application/json template holds the reference $util.escapeJavaScript (only $context and $stageVariables are substituted)']);
    expect(problem('default-5xx')).toEqual(['the application/json template holds the method call $context.error.messageString.replaceAll(...)']);
    expect(problem('throttled')).toEqual(['the application/json template holds the VTL directive #set', 'the application/json template holds the reference $m (only $context and $stageVariables are substituted)']);
  });

  it('stays silent on plain $context and $stageVariables references, and on static text', () => {
    const report = check((stack) => {
      response(stack, 'default-4xx', '{"message": $context.error.messageString, "type": "$context.error.responseType"}');
      response(stack, 'default-5xx', '{"message": "try again", "stage": "$stageVariables.name", "price": "$5"}');
    });
    expectClean(report, 'API-005');
  });
});
