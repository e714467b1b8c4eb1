/** Who may reach the web app, as the configuration decides: secure by default, opened only on purpose. */
import { ApiGatewayAccount } from '@cdktf/provider-aws/lib/api-gateway-account';
import { CognitoUser } from '@cdktf/provider-aws/lib/cognito-user';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolDomain } from '@cdktf/provider-aws/lib/cognito-user-pool-domain';
import { Testing } from 'cdktf';
import { configOf, handlerPackages, resource, resources, type TerraformJson } from './synth-helpers';
import { definePlatform, synthWarnings } from '../../stacks/platform';
import { WEB_CLOSED_NOTICE } from '../../stacks/web-settings';

const CERTIFICATE = 'arn:aws:acm:eu-west-2:123456789012:certificate/abc';

function synth(input: Record<string, unknown>) {
  const app = Testing.app();
  const { pipeline } = definePlatform(app, configOf(input), { handlerPackages: handlerPackages() });
  const text = Testing.synth(pipeline);
  const json = JSON.parse(text) as TerraformJson;
  const openings = Object.values(resources(json, 'aws_vpc_security_group_ingress_rule'))
    .filter((rule) => rule.security_group_id === '${aws_security_group.web-load-balancer_security-group.id}')
    .map((rule) => `${String(rule.from_port)} ${String(rule.cidr_ipv4)}`)
    .sort();
  return { text, json, openings, warnings: synthWarnings(app) };
}

/** The default configuration's synth, shared by the tests that read it. */
const defaults = synth({});

it('lets nothing from the internet reach the load balancer by default, and says how to open it', () => {
  const { openings, warnings, json } = defaults;
  expect(openings).toEqual([]);
  expect(warnings).toEqual([WEB_CLOSED_NOTICE]);
  expect(WEB_CLOSED_NOTICE).toMatch(/web\.allowedCidrs.*network\.certificateArn and web\.domainName/);
  expect(json.output?.web_url?.value).toBe('http://${aws_lb.web-load-balancer_load-balancer.dns_name}');
});

it('admits only web.allowedCidrs over HTTP when there is no certificate', () => {
  const { openings, warnings } = synth({ web: { allowedCidrs: ['203.0.113.0/24'] } });
  expect(openings).toEqual(['80 203.0.113.0/24']);
  expect(warnings).toEqual([]);
});

it('serves HTTPS with Cognito sign-in to the internet with a certificate and domain, inviting the configured users', () => {
  const { openings, warnings, json, text } = synth({
    network: { certificateArn: CERTIFICATE },
    web: { domainName: 'iot.example.com', signIn: { users: ['ana@example.com'] } },
  });
  expect(openings).toEqual(['443 0.0.0.0/0', '80 0.0.0.0/0']);
  expect(warnings).toEqual([]);
  expect((resource(json, 'aws_lb_listener', 'web-load-balancer_https-listener').default_action as { type: string }[]).map((action) => action.type)).toEqual(['authenticate-cognito', 'forward']);
  expect(resource(json, 'aws_lb_listener', 'web-load-balancer_http-redirect-listener').default_action).toEqual([{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', status_code: 'HTTP_301' } }]);
  expect(Object.values(resources(json, 'aws_cognito_user')).map((user) => user.username)).toEqual(['ana@example.com']);
  expect(text).toHaveResourceWithProperties(CognitoUserPoolDomain, { domain: 'iot-web-${data.aws_caller_identity.account.account_id}' });
  expect(json.output?.web_url?.value).toBe('https://iot.example.com');
  // The app takes changes from the users this load balancer signs in, checking its signature.
  const environment = JSON.parse(String(Object.values(resources(json, 'aws_ecs_task_definition'))[0]?.container_definitions))[0].environment as { name: string; value: string }[];
  expect(environment).toContainEqual({ name: 'WEB_USER_IDENTITY', value: 'load-balancer' });
  expect(environment).toContainEqual({ name: 'WEB_LOAD_BALANCER_ARN', value: '${aws_lb.web-load-balancer_load-balancer.arn}' });
});

it('uses HTTPS without sign-in only for the allowed networks', () => {
  const { openings, json, text } = synth({ network: { certificateArn: CERTIFICATE }, web: { domainName: 'iot.example.com', allowedCidrs: ['198.51.100.0/24'], signIn: { provider: 'none' } } });
  expect(openings).toEqual(['443 198.51.100.0/24', '80 198.51.100.0/24']);
  expect(text).not.toHaveResource(CognitoUserPool);
  expect(text).not.toHaveResource(CognitoUser);
  expect(resource(json, 'aws_lb_listener', 'web-load-balancer_https-listener').default_action).toEqual([{ type: 'forward', target_group_arn: '${aws_lb_target_group.web-load-balancer_target-group.arn}' }]);
});

it('leaves the region\'s API Gateway logging role alone when told (api.manageAccountLoggingRole: false)', () => {
  expect(defaults.text).toHaveResource(ApiGatewayAccount);
  const { json, text } = synth({ api: { manageAccountLoggingRole: false } });
  expect(text).not.toHaveResource(ApiGatewayAccount);
  expect(resource(json, 'aws_api_gateway_stage', 'ingest-api_stage').depends_on).toEqual([]);
});
