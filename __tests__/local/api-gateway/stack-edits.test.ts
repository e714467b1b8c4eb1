/**
 * The twin follows the synthesized JSON, not constants: each test edits `cdk.tf.json` as a
 * person would (`npm start -- --no-synth`) and shows the answer change accordingly.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from '../harness';
import { API_KEY, pipelineStackJson, resourceOf, startTwin, type RunningTwin, type StackJson } from './fixture';

const READING = { id: 'things/edit/001', temperature: 21.5, timestamp: '2024-05-01T10:00:00Z' };
const HEADERS = { 'content-type': 'application/json', 'x-api-key': API_KEY };
const putReading = (twin: RunningTwin, body: string = JSON.stringify({ Data: READING }), headers: Record<string, string> = HEADERS) =>
  request(`${twin.baseUrl}/prod/thingsstream`, { method: 'PUT', headers, body });

describe('API Gateway twin follows edits of the synthesized stack', () => {
  let original: StackJson;
  const running: RunningTwin[] = [];
  const twinOn = async (edit: (json: StackJson) => void, options: Parameters<typeof startTwin>[1] = {}): Promise<RunningTwin> => {
    const json = structuredClone(original);
    edit(json);
    const twin = await startTwin(json, options);
    running.push(twin);
    return twin;
  };

  beforeAll(async () => {
    original = await pipelineStackJson();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((twin) => twin.stop()));
  });

  it('answers a bad body with an edited BAD_REQUEST_BODY gateway response (status and template)', async () => {
    const twin = await twinOn((json) => {
      const response = resourceOf(json, 'aws_api_gateway_gateway_response', 'bad-request-body');
      response.status_code = '422';
      response.response_templates = { 'application/json': '{"problem": $context.error.messageString, "type": "$context.error.responseType"}' };
    });
    const response = await putReading(twin, '{"Data": 42}');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ problem: 'Invalid request body', type: 'BAD_REQUEST_BODY' });
  });

  it('uses the partition key the edited request template names', async () => {
    const twin = await twinOn((json) => {
      const integration = resourceOf(json, 'aws_api_gateway_integration', 'put-reading-integration');
      const templates = integration.request_templates as Record<string, string>;
      templates['application/json'] = (templates['application/json'] as string).replace("$input.json('$.Data.id')", "$input.json('$.Data.timestamp')");
    });
    expect((await putReading(twin)).statusCode).toBe(200);
    expect(await twin.records()).toEqual([{ key: READING.timestamp, data: JSON.stringify(READING) }]);
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html (token bucket, 429)
  it("throttles by the usage plan's edited rate and burst with 429 THROTTLED", async () => {
    const twin = await twinOn((json) => {
      resourceOf(json, 'aws_api_gateway_usage_plan', 'usage-plan').throttle_settings = { rate_limit: 0.001, burst_limit: 1 };
    });
    expect((await putReading(twin)).statusCode).toBe(200);
    const throttled = await putReading(twin);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
    expect(throttled.json()).toMatchObject({ message: 'Too Many Requests', details: 'over the rate limit: retry with exponential backoff' });
  });

  it("throttles by the stage's edited method settings", async () => {
    const twin = await twinOn((json) => {
      (resourceOf(json, 'aws_api_gateway_method_settings', 'stage-settings').settings as Record<string, unknown>).throttling_burst_limit = 1;
      (resourceOf(json, 'aws_api_gateway_method_settings', 'stage-settings').settings as Record<string, unknown>).throttling_rate_limit = 0.001;
    });
    expect((await putReading(twin)).statusCode).toBe(200);
    expect((await putReading(twin)).statusCode).toBe(429);
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html (quota), QUOTA_EXCEEDED 429
  it("refuses requests past the usage plan's edited quota with 429 QUOTA_EXCEEDED", async () => {
    const twin = await twinOn((json) => {
      resourceOf(json, 'aws_api_gateway_usage_plan', 'usage-plan').quota_settings = { limit: 2, period: 'DAY' };
    });
    expect((await putReading(twin)).statusCode).toBe(200);
    expect((await putReading(twin)).statusCode).toBe(200);
    const over = await putReading(twin);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ message: 'Limit Exceeded', details: "this API key's daily quota is used up" });
  });

  it('takes the API key value the stack sets, and no other', async () => {
    const twin = await twinOn((json) => {
      resourceOf(json, 'aws_api_gateway_api_key', 'device-key').value = 'key-from-the-stack';
    });
    expect((await putReading(twin)).statusCode).toBe(403);
    expect((await putReading(twin, undefined, { ...HEADERS, 'x-api-key': 'key-from-the-stack' })).statusCode).toBe(200);
  });

  // selectionPattern is matched against the HTTP status for AWS integrations:
  // https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/apigateway/aws.sdk.kotlin.services.apigateway.model/-integration-response/selection-pattern.html
  it("renders Kinesis's real 400 through the integration response selected by 4\\d{2}", async () => {
    const twin = await twinOn((json) => {
      const integration = resourceOf(json, 'aws_api_gateway_integration', 'put-reading-integration');
      const templates = integration.request_templates as Record<string, string>;
      templates['application/json'] = (templates['application/json'] as string).replace(/"StreamName": "[^"]+"/, '"StreamName": "no-such-stream"');
    });
    const response = await putReading(twin);
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ message: 'the stream is not available: the platform is misconfigured, contact its operators' });
  });

  // https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/13945642c8779810147a5b1f16054f7c2e8b64bb/doc_source/api-gateway-integration-settings-integration-response.md
  it('answers 500 API_CONFIGURATION_ERROR when the selected integration response has no method response', async () => {
    const twin = await twinOn((json) => {
      for (const [name] of Object.entries(json.resource.aws_api_gateway_method_response ?? {})) if (name.endsWith('put-reading-200')) delete json.resource.aws_api_gateway_method_response?.[name];
    });
    const response = await putReading(twin);
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ message: 'Internal server error' });
    expect(twin.log.join('\n')).toMatch(/answers 200, which has no aws_api_gateway_method_response/);
  });

  // Defaults: {"message":$context.error.messageString} with each type's status:
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
  it("answers with AWS's default gateway responses once the stack's customisations are gone", async () => {
    const twin = await twinOn((json) => {
      delete json.resource.aws_api_gateway_gateway_response;
    });
    const invalid = await putReading(twin, '{}');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toBe('{"message":"Invalid request body"}');
    const unknown = await request(`${twin.baseUrl}/prod/elsewhere`, { method: 'GET' });
    expect(unknown.statusCode).toBe(403);
    expect(unknown.body).toBe('{"message":"Missing Authentication Token"}');
  });

  it('gives every un-customised type of a class the status DEFAULT_4XX sets', async () => {
    const twin = await twinOn((json) => {
      const responses = json.resource.aws_api_gateway_gateway_response as Record<string, Record<string, unknown>>;
      for (const name of Object.keys(responses)) if (!name.endsWith('default-4xx')) delete responses[name];
      resourceOf(json, 'aws_api_gateway_gateway_response', 'default-4xx').status_code = '418';
    });
    expect((await putReading(twin, undefined, { 'content-type': 'application/json' })).statusCode).toBe(418);
  });

  // INTEGRATION_FAILURE is 504 (types page above).
  it('answers 504 INTEGRATION_FAILURE when Kinesis cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const twin = await twinOn(() => undefined, { kinesisEndpoint: `http://127.0.0.1:${port}` });
    const response = await putReading(twin);
    expect(response.statusCode).toBe(504);
    expect(response.json()).toEqual({ message: 'Internal server error' });
    expect(twin.log.join('\n')).toMatch(/Kinesis at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  });
});
