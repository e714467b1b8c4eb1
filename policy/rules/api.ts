import { asObject, block, isSet, isTrue, literalNumber, type Element, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

const AUTHORISERS = ['AWS_IAM', 'CUSTOM', 'COGNITO_USER_POOLS'];
const METHODS_WITH_BODY = ['PUT', 'POST', 'PATCH', 'ANY'];

/** The integration of a method: same API, same resource, same HTTP method. */
function integrationOf(model: StackModel, method: Element): Element | undefined {
  return model.resources('aws_api_gateway_integration').find(
    (integration) =>
      integration.config['rest_api_id'] === method.config['rest_api_id'] &&
      integration.config['resource_id'] === method.config['resource_id'] &&
      model.designates(integration.config['http_method'], method, 'http_method'),
  );
}

export const methodAuthorised = rule({
  id: 'API-001',
  category: 'api',
  title: 'Every API method requires an API key or an authoriser (CORS preflight `OPTIONS` with a `MOCK` integration excepted)',
  fix: 'Set `apiKeyRequired: true` (with a usage plan) or an `authorization` of AWS_IAM, CUSTOM or COGNITO_USER_POOLS.',
  equivalents: { checkov: [{ id: 'CKV_AWS_59' }], trivy: [{ id: 'AVD-AWS-0004' }] },
  check: (model) =>
    model.resources('aws_api_gateway_method').flatMap((method) => {
      const { config } = method;
      if (isTrue(config['api_key_required']) || AUTHORISERS.includes(String(config['authorization']))) return [];
      if (config['http_method'] === 'OPTIONS' && integrationOf(model, method)?.config['type'] === 'MOCK') return [];
      return [finding(method, `${String(config['http_method'])} has authorization ${JSON.stringify(config['authorization'] ?? null)} and no API key requirement`)];
    }),
});

export const bodyValidated = rule({
  id: 'API-002',
  category: 'api',
  title: 'Every method that takes a body (PUT, POST, PATCH, ANY) has a request validator that validates the body against a model',
  fix: 'Set `requestValidatorId` to a validator with `validateRequestBody: true` and `requestModels: { "application/json": model.name }`.',
  equivalents: {
    checkov: [{ id: 'CKV2_AWS_53', scope: 'validator present' }],
    trivy: [],
    note: 'Stricter: the validator must validate the body, and a request model must exist.',
  },
  check(model) {
    const findings: Finding[] = [];
    for (const method of model.resources('aws_api_gateway_method')) {
      const httpMethod = String(method.config['http_method']);
      if (!METHODS_WITH_BODY.includes(httpMethod)) continue;
      const validators = model.referencedElements(method.config['request_validator_id'], 'aws_api_gateway_request_validator');
      if (validators.length === 0) {
        findings.push(finding(method, `${httpMethod} has no request_validator_id referencing a request validator`));
      } else if (!validators.some((validator) => isTrue(validator.config['validate_request_body']))) {
        findings.push(finding(method, `${httpMethod}'s request validator ${validators.map((v) => v.address).join(', ')} does not validate the body`));
      }
      const models = Object.values(asObject(method.config['request_models'])).filter(isSet);
      if (models.length === 0) {
        findings.push(finding(method, `${httpMethod} has no request_models, so body validation checks nothing`));
      }
    }
    return findings;
  },
});

export const stageAccessLogs = rule({
  id: 'API-003',
  category: 'api',
  title: 'Every API stage writes access logs (destination and format set)',
  fix: 'Set `accessLogSettings: { destinationArn: logGroup.arn, format: ... }` on the stage.',
  equivalents: { checkov: [{ id: 'CKV_AWS_76' }], trivy: [{ id: 'AVD-AWS-0001' }] },
  check: (model) =>
    model.resources('aws_api_gateway_stage').flatMap((stage) => {
      const settings = block(stage.config['access_log_settings']);
      if (!isSet(settings['destination_arn'])) return [finding(stage, 'access_log_settings.destination_arn is not set')];
      if (!isSet(settings['format'])) return [finding(stage, 'access_log_settings.format is not set')];
      return [];
    }),
});

/** The method settings that apply to every method (`*\/*`) of a stage. */
function stageWideSettings(model: StackModel, stage: Element): Element[] {
  return model.resources('aws_api_gateway_method_settings').filter(
    (settings) =>
      settings.config['method_path'] === '*/*' &&
      settings.config['rest_api_id'] === stage.config['rest_api_id'] &&
      model.designates(settings.config['stage_name'], stage, 'stage_name'),
  );
}

export const stageMetricsAndThrottling = rule({
  id: 'API-004',
  category: 'api',
  title: 'Every API stage has method settings for `*/*` with metrics enabled and throttling (burst and rate) set',
  fix: 'Add `ApiGatewayMethodSettings` with `methodPath: "*/*"`, `stageName: stage.stageName` and settings `metricsEnabled: true`, `throttlingBurstLimit`, `throttlingRateLimit` > 0.',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    model.resources('aws_api_gateway_stage').flatMap((stage) => {
      const all = stageWideSettings(model, stage);
      if (all.length === 0) return [finding(stage, 'no method settings with method_path "*/*" apply to the stage')];
      const settings = all.map((s) => block(s.config['settings']));
      const problems: string[] = [];
      if (!settings.some((s) => isTrue(s['metrics_enabled']))) problems.push('metrics_enabled is not true');
      for (const key of ['throttling_burst_limit', 'throttling_rate_limit']) {
        if (!settings.some((s) => (literalNumber(s[key]) ?? 0) > 0)) problems.push(`${key} is not a positive number`);
      }
      return problems.map((problem) => finding(stage, `stage method settings: ${problem}`));
    }),
});

/** Variables a gateway response template may name: API Gateway substitutes these and nothing else. */
const GATEWAY_RESPONSE_VARIABLES = ['context', 'stageVariables'];
const VTL_DIRECTIVE = /#(set|if|elseif|else|end|foreach|break|stop|macro|define|evaluate|parse|include)\b|#\{/;
const REFERENCE = /\$(!)?\{?([A-Za-z_]\w*)((?:\.\w+)*)\}?(\()?/g;

/** What in a gateway response template API Gateway would send as text instead of evaluating. */
function notSubstituted(template: string): string[] {
  const problems: string[] = [];
  const directive = VTL_DIRECTIVE.exec(template);
  if (directive !== null) problems.push(`the VTL directive ${directive[0]}`);
  for (const [reference, quiet, name, path, call] of template.matchAll(REFERENCE)) {
    if (!GATEWAY_RESPONSE_VARIABLES.includes(name ?? '')) problems.push(`the reference ${reference.replace(/\($/, '')} (only $context and $stageVariables are substituted)`);
    else if (call !== undefined) problems.push(`the method call $${name}${path}(...)`);
    else if (quiet !== undefined) problems.push(`the quiet reference ${reference}`);
  }
  return [...new Set(problems)];
}

export const gatewayResponsePlainSubstitution = rule({
  id: 'API-005',
  category: 'api',
  title: 'Gateway response templates use plain substitution of `$context` and `$stageVariables` only: API Gateway does not run them through VTL, so `$util`, `$input`, method calls and `#set`/`#if` reach clients as text',
  fix: 'Write the template as JSON with plain variables, e.g. `{"message": $context.error.messageString}`; anything computed belongs in an integration response template.',
  equivalents: {
    ...NO_EQUIVALENT,
    note: 'AWS: "A GatewayResponse mapping template isn\'t processed by the Velocity Template Language (VTL) engine" (x-amazon-apigateway-gateway-responses.responseTemplates).',
  },
  check: (model) =>
    model.resources('aws_api_gateway_gateway_response').flatMap((response) =>
      Object.entries(asObject(response.config['response_templates'])).flatMap(([contentType, template]) =>
        typeof template === 'string' ? notSubstituted(template).map((problem) => finding(response, `the ${contentType} template holds ${problem}`)) : [],
      ),
    ),
});

export const API_RULES = [methodAuthorised, bodyValidated, stageAccessLogs, stageMetricsAndThrottling, gatewayResponsePlainSubstitution] as const;
