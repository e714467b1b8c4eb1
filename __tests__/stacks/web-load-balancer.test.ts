import { Annotations } from 'cdktf';
import { DYNAMIC_HOST_PORTS, WebLoadBalancer, type WebLoadBalancerProps } from '../../stacks/web-load-balancer';
import { SIGN_IN_CALLBACK_PATH, WebSignIn, type SignInMethod } from '../../stacks/web-sign-in';
import { constructStack, policyStatements, synthJson } from './synth-helpers';

const CERTIFICATE = 'arn:aws:acm:eu-west-2:111122223333:certificate/abc';
const baseProps: WebLoadBalancerProps = {
  name: 'iot-web',
  region: 'eu-west-2',
  accountId: '111122223333',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-1', 'subnet-2'],
  instanceSecurityGroupId: 'sg-instances',
  containerPort: 5000,
  allowedCidrs: [],
  accessLogRetentionDays: 30,
  alarmActions: ['arn:aws:sns:eu-west-2:111122223333:iot-operations'],
};
const COGNITO: SignInMethod = { kind: 'cognito', users: ['Ana@Example.org', 'bo@example.org'] };

function synthLoadBalancer(overrides: Partial<WebLoadBalancerProps> = {}, signIn?: SignInMethod) {
  const stack = constructStack();
  const https =
    overrides.https ??
    (signIn === undefined
      ? undefined
      : { certificateArn: CERTIFICATE, domainName: 'charts.example.org', signIn: new WebSignIn(stack, 'web-sign-in', { name: 'iot-web', domainName: 'charts.example.org', accountId: '111122223333', method: signIn }).action });
  const balancer = new WebLoadBalancer(stack, 'web-load-balancer', { ...baseProps, ...overrides, https });
  const json = synthJson(stack);
  const all = (type: string) => Object.entries(json.resource[type] ?? {});
  const one = (type: string, id: string) => {
    const found = json.resource[type]?.[id.startsWith('web-sign-in_') ? id : `web-load-balancer_${id}`];
    if (found === undefined) throw new Error(`no ${type} ${id}; have ${Object.keys(json.resource[type] ?? {}).join(', ')}`);
    return found;
  };
  const openings = () =>
    all('aws_vpc_security_group_ingress_rule')
      .filter(([, rule]) => rule.cidr_ipv4 !== undefined)
      .map(([, rule]) => [rule.from_port, rule.cidr_ipv4])
      .sort(([a], [b]) => Number(a) - Number(b));
  return { json, all, one, openings, balancer };
}
const ref = (type: string, id: string, attribute: string) => `\${${type}.web-load-balancer_${id}.${attribute}}`;
const GROUP = ref('aws_security_group', 'security-group', 'id');

describe('WebLoadBalancer reach', () => {
  it('admits nobody when neither allowed networks nor sign-in are given, and says so', () => {
    const { openings, balancer, one } = synthLoadBalancer();
    expect(openings()).toEqual([]);
    expect(balancer.reach).toBe('nobody');
    // The listener still exists, so the service can register its tasks once someone opens it.
    expect(one('aws_lb_listener', 'http-listener').default_action).toEqual([{ type: 'forward', target_group_arn: ref('aws_lb_target_group', 'target-group', 'arn') }]);
  });

  it('admits only the allowed networks on HTTP 80 without a certificate', () => {
    const { openings, balancer, json } = synthLoadBalancer({ allowedCidrs: ['203.0.113.0/24', '198.51.100.0/24'] });
    expect(openings()).toEqual([
      [80, '203.0.113.0/24'],
      [80, '198.51.100.0/24'],
    ]);
    expect(balancer.reach).toBe('allowed-networks');
    expect(Object.values(json.resource.aws_vpc_security_group_ingress_rule ?? {}).every((rule) => rule.security_group_id === GROUP || rule.referenced_security_group_id === GROUP)).toBe(true);
  });

  it('admits the internet on 80 and 443 only behind sign-in, and lets the load balancer call the identity provider', () => {
    const { openings, balancer, one } = synthLoadBalancer({}, COGNITO);
    expect(openings()).toEqual([
      [80, '0.0.0.0/0'],
      [443, '0.0.0.0/0'],
    ]);
    expect(balancer.reach).toBe('internet-with-sign-in');
    expect(one('aws_vpc_security_group_egress_rule', 'egress-to-sign-in')).toMatchObject({ security_group_id: GROUP, from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0' });
  });

  it('keeps sign-in and narrows to the allowed networks when both are given', () => {
    const { openings, one } = synthLoadBalancer({ allowedCidrs: ['203.0.113.0/24'] }, COGNITO);
    expect(openings()).toEqual([
      [80, '203.0.113.0/24'],
      [443, '203.0.113.0/24'],
    ]);
    expect((one('aws_lb_listener', 'https-listener').default_action as { type: string }[]).map((action) => action.type)).toEqual(['authenticate-cognito', 'forward']);
  });

  it('lets the load balancer reach only the task host ports of the instances, and opens those ports to it alone', () => {
    const { one } = synthLoadBalancer();
    expect(one('aws_vpc_security_group_egress_rule', 'egress-to-tasks')).toMatchObject({ security_group_id: GROUP, from_port: 32768, to_port: 65535, referenced_security_group_id: 'sg-instances' });
    expect(one('aws_vpc_security_group_ingress_rule', 'instance-ingress-from-load-balancer')).toMatchObject({
      security_group_id: 'sg-instances',
      referenced_security_group_id: GROUP,
      from_port: DYNAMIC_HOST_PORTS.from,
      to_port: DYNAMIC_HOST_PORTS.to,
    });
  });
});

describe('WebLoadBalancer listeners', () => {
  it('serves HTTPS with TLS 1.2+, signs users in before forwarding, and redirects HTTP to HTTPS', () => {
    const { one, balancer, json } = synthLoadBalancer({}, COGNITO);
    expect(one('aws_lb_listener', 'https-listener')).toMatchObject({
      port: 443,
      protocol: 'HTTPS',
      certificate_arn: CERTIFICATE,
      ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      default_action: [
        {
          type: 'authenticate-cognito',
          order: 1,
          authenticate_cognito: {
            user_pool_arn: '${aws_cognito_user_pool.web-sign-in_user-pool.arn}',
            user_pool_client_id: '${aws_cognito_user_pool_client.web-sign-in_client.id}',
            user_pool_domain: '${aws_cognito_user_pool_domain.web-sign-in_domain.domain}',
          },
        },
        { type: 'forward', order: 2, target_group_arn: ref('aws_lb_target_group', 'target-group', 'arn') },
      ],
    });
    expect(one('aws_lb_listener', 'http-redirect-listener')).toMatchObject({
      port: 80,
      protocol: 'HTTP',
      default_action: [{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', status_code: 'HTTP_301' } }],
    });
    expect(Object.keys(json.resource.aws_lb_listener ?? {})).toHaveLength(2);
    expect(balancer.webUrl).toBe('https://charts.example.org');
  });

  it('checks task liveness on /livez through an instance target group that drains quickly', () => {
    const { one } = synthLoadBalancer();
    expect(one('aws_lb_target_group', 'target-group')).toMatchObject({ target_type: 'instance', protocol: 'HTTP', port: 5000, deregistration_delay: '30', health_check: { path: '/livez', matcher: '200' } });
  });
});

describe('WebSignIn', () => {
  it('creates a user pool that only administrators fill, with a confidential code-flow client calling back to the domain', () => {
    const { one } = synthLoadBalancer({}, COGNITO);
    expect(one('aws_cognito_user_pool', 'web-sign-in_user-pool')).toMatchObject({
      name: 'iot-web-users',
      username_attributes: ['email'],
      admin_create_user_config: { allow_admin_create_user_only: true },
      deletion_protection: 'ACTIVE',
    });
    expect(one('aws_cognito_user_pool_client', 'web-sign-in_client')).toMatchObject({
      generate_secret: true,
      allowed_oauth_flows_user_pool_client: true,
      allowed_oauth_flows: ['code'],
      allowed_oauth_scopes: ['openid', 'email'],
      callback_urls: [`https://charts.example.org${SIGN_IN_CALLBACK_PATH}`],
      supported_identity_providers: ['COGNITO'],
    });
    expect(one('aws_cognito_user_pool_domain', 'web-sign-in_domain').domain).toBe('iot-web-111122223333');
  });

  it('invites each user by email, named after the address so removing one leaves the others', () => {
    const { json } = synthLoadBalancer({}, COGNITO);
    expect(json.resource.aws_cognito_user).toEqual({
      'web-sign-in_user-ana-example-org': expect.objectContaining({ username: 'Ana@Example.org', desired_delivery_mediums: ['EMAIL'], attributes: { email: 'Ana@Example.org', email_verified: 'true' } }),
      'web-sign-in_user-bo-example-org': expect.objectContaining({ username: 'bo@example.org', desired_delivery_mediums: ['EMAIL'] }),
    });
  });

  it('uses an OpenID Connect provider with the secret read from SSM instead', () => {
    const oidc: SignInMethod = {
      kind: 'oidc',
      issuer: 'https://login.example.org',
      authorizationEndpoint: 'https://login.example.org/authorize',
      tokenEndpoint: 'https://login.example.org/token',
      userInfoEndpoint: 'https://login.example.org/userinfo',
      clientId: 'iot-web',
      clientSecretParameter: '/iot/web/oidc-secret',
    };
    const { one, json } = synthLoadBalancer({}, oidc);
    expect(json.data?.aws_ssm_parameter?.['web-sign-in_client-secret']).toMatchObject({ name: '/iot/web/oidc-secret', with_decryption: true });
    expect((one('aws_lb_listener', 'https-listener').default_action as Record<string, unknown>[])[0]).toMatchObject({
      type: 'authenticate-oidc',
      authenticate_oidc: { issuer: 'https://login.example.org', client_id: 'iot-web', client_secret: '${data.aws_ssm_parameter.web-sign-in_client-secret.value}' },
    });
    expect(json.resource.aws_cognito_user_pool).toBeUndefined();
  });
});

describe('WebLoadBalancer access logs', () => {
  const { one, json } = synthLoadBalancer();

  it('writes access logs to a private, TLS-only, SSE-S3 bucket the load balancer waits for', () => {
    expect(one('aws_lb', 'load-balancer')).toMatchObject({
      load_balancer_type: 'application',
      drop_invalid_header_fields: true,
      access_logs: { bucket: '${aws_s3_bucket.web-load-balancer_access-logs_bucket.bucket}', enabled: true },
      depends_on: ['aws_s3_bucket_policy.web-load-balancer_access-logs_policy'],
    });
    // Load balancer log delivery supports only S3-managed keys.
    expect(one('aws_s3_bucket_server_side_encryption_configuration', 'access-logs_encryption').rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]);
    expect(one('aws_s3_bucket_public_access_block', 'access-logs_public-access-block')).toMatchObject({ block_public_acls: true, restrict_public_buckets: true });
    expect(one('aws_s3_bucket_lifecycle_configuration', 'access-logs_lifecycle').rule).toEqual([expect.objectContaining({ expiration: [{ days: 30 }] })]);
  });

  it('lets the regional load balancer account and the log delivery service write under AWSLogs/<account> only', () => {
    const statements = policyStatements(json, one('aws_s3_bucket_policy', 'access-logs_policy').policy);
    expect(statements[0]).toMatchObject({ sid: 'DenyInsecureTransport', effect: 'Deny' });
    expect(statements[1]).toEqual({
      sid: 'LoadBalancerWritesAccessLogs',
      effect: 'Allow',
      principals: [
        { type: 'Service', identifiers: ['logdelivery.elasticloadbalancing.amazonaws.com'] },
        { type: 'AWS', identifiers: ['${data.aws_elb_service_account.web-load-balancer_access-logs_elb-log-account.arn}'] },
      ],
      actions: ['s3:PutObject'],
      resources: ['${aws_s3_bucket.web-load-balancer_access-logs_bucket.arn}/AWSLogs/111122223333/*'],
    });
  });

  it('relies on the service principal alone in a region opened after August 2022', () => {
    const spain = synthLoadBalancer({ region: 'eu-south-2' });
    expect(spain.json.data?.aws_elb_service_account).toBeUndefined();
    const [, write] = policyStatements(spain.json, spain.one('aws_s3_bucket_policy', 'access-logs_policy').policy);
    expect(write?.principals).toEqual([{ type: 'Service', identifiers: ['logdelivery.elasticloadbalancing.amazonaws.com'] }]);
  });
});

it('raises no warning itself: the stack words the notice for the configuration', () => {
  const stack = constructStack();
  const balancer = new WebLoadBalancer(stack, 'web-load-balancer', baseProps);
  expect(balancer.node.metadata.filter((entry) => entry.type.includes('warn'))).toEqual([]);
  Annotations.of(balancer).addWarning('x');
  expect(balancer.node.metadata.filter((entry) => entry.type.includes('warn'))).toHaveLength(1);
});
