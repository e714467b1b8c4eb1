import { loadWebConfig, WebConfigError } from '../../web/config';

const complete = {
  THINGS_TABLE: 'iot-things',
  THRESHOLDS_TABLE: 'iot-thresholds',
  ALERTS_TABLE: 'iot-alerts',
  AWS_REGION: 'eu-west-2',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadWebConfig(env);
  } catch (error) {
    if (error instanceof WebConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a WebConfigError');
}

test('reads the tables and region, with port 5000, the series catalogue, the rollups and their retention by default', () => {
  expect(loadWebConfig(complete)).toEqual({
    port: 5000,
    host: '0.0.0.0',
    region: 'eu-west-2',
    tables: { things: 'iot-things', thresholds: 'iot-thresholds', alerts: 'iot-alerts', series: 'iot-series', rollups: 'iot-rollups' },
    seriesCacheSeconds: 5,
    rollupRetentionDays: { '1m': 1095, '1h': 1095, '1d': undefined },
    // Changes (acknowledge, silence) are refused unless the deployment says who signs users in.
    identity: { mode: 'none' },
  });
});

test('reads who may change things: the load balancer that signs users in, or the local user', () => {
  const arn = 'arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/iot-web/0123456789abcdef';
  expect(loadWebConfig({ ...complete, WEB_USER_IDENTITY: 'load-balancer', WEB_LOAD_BALANCER_ARN: arn }).identity).toEqual({ mode: 'load-balancer', loadBalancerArn: arn });
  expect(loadWebConfig({ ...complete, WEB_USER_IDENTITY: 'local' }).identity).toEqual({ mode: 'local' });
  expect(problemsOf({ ...complete, WEB_USER_IDENTITY: 'load-balancer' })).toEqual([expect.stringMatching(/^WEB_LOAD_BALANCER_ARN must be the ARN of the application load balancer/)]);
  expect(problemsOf({ ...complete, WEB_USER_IDENTITY: 'anyone' })).toEqual(['WEB_USER_IDENTITY must be load-balancer, local or none, got "anyone"']);
});

test('takes every optional setting from the environment', () => {
  const config = loadWebConfig({
    ...complete,
    AWS_REGION: '',
    AWS_DEFAULT_REGION: 'us-east-1',
    PORT: '8080',
    HOST: '127.0.0.1',
    SERIES_TABLE: 'prod-series',
    SERIES_CACHE_SECONDS: '0',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    ROLLUPS_TABLE: 'prod-rollups',
    HOUR_ROLLUP_RETENTION_DAYS: '400',
    DAY_ROLLUP_RETENTION_DAYS: '3650',
  });
  // Minutes are parts of their hour's item, so they are kept as long as hours.
  expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', region: 'us-east-1', seriesCacheSeconds: 0, rollupRetentionDays: { '1m': 400, '1h': 400, '1d': 3650 } });
  expect(config.tables.series).toBe('prod-series');
  expect(config.tables.rollups).toBe('prod-rollups');
});

test('names every missing variable at once', () => {
  const problems = problemsOf({});
  expect(problems).toEqual([
    expect.stringMatching(/^THINGS_TABLE is missing/),
    expect.stringMatching(/^THRESHOLDS_TABLE is missing/),
    expect.stringMatching(/^ALERTS_TABLE is missing/),
    expect.stringMatching(/^AWS_REGION is missing/),
  ]);
  expect(new WebConfigError(problems).message).toMatch(/fix these environment variables:\n {2}- THINGS_TABLE is missing/);
});

test.each([
  ['PORT', 'http', /PORT must be a TCP port from 0 to 65535, got "http"/],
  ['PORT', '70000', /PORT must be a TCP port/],
  ['THINGS_TABLE', 'a b', /THINGS_TABLE must be a DynamoDB table name/],
  ['SERIES_CACHE_SECONDS', '-1', /SERIES_CACHE_SECONDS must be a whole number of seconds/],
  ['HOUR_ROLLUP_RETENTION_DAYS', '0', /HOUR_ROLLUP_RETENTION_DAYS must be a whole number of days, 1 or more, got "0"/],
  ['AWS_ENDPOINT_URL_DYNAMODB', 'localhost:8000', /AWS_ENDPOINT_URL_DYNAMODB must be an http\(s\) URL/],
  ['AWS_ENDPOINT_URL', 'ftp://example', /AWS_ENDPOINT_URL must be an http\(s\) URL/],
])('rejects %s=%s with a message saying what is expected', (name, value, message) => {
  expect(problemsOf({ ...complete, [name]: value })).toEqual([expect.stringMatching(message)]);
});
