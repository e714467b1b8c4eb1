/**
 * Gateway responses get simple variable substitution, not Velocity:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
 * `$context.error.messageString` is "the quoted value of $context.error.message":
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 */
import fc from 'fast-check';
import { errorContext, GatewayResponses, substitute, type SubstitutionScope } from '../../../local/api-gateway/gateway-responses';
import { pipelineStackJson, resourceOf } from './fixture';

const REQUEST_ID = '9f1c2d3e-0000-4000-8000-000000000000';
const scopeFor = (message: string, validationErrorString: string): SubstitutionScope => ({
  context: { requestId: REQUEST_ID, httpMethod: 'PUT', error: errorContext('BAD_REQUEST_BODY', message, validationErrorString) },
  stageVariables: {},
  request: { header: {}, querystring: {}, path: {} },
});

/** Validation messages as hostile as they come: quotes, backslashes, control characters, `$context` look-alikes. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom('[string "a\\"b" is too long]', '"}', '\\', '\u0000\n\r\t', '$context.requestId', '${x}', "it's", '[object has missing required properties (["id"])]'),
);

describe('gateway responses', () => {
  it('substitute $context variables as plain text and evaluate nothing else', () => {
    const scope = scopeFor('Invalid request body', '[x]');
    expect(substitute('$util.escapeJavaScript($context.error.message) #if(true)yes#end', scope)).toBe('$util.escapeJavaScript(Invalid request body) #if(true)yes#end');
    expect(substitute('{"m": $context.error.messageString, "id": "$context.requestId."}', scope)).toBe(`{"m": "Invalid request body", "id": "${REQUEST_ID}."}`);
    expect(substitute('$context.nothing.here', scope)).toBe('$context.nothing.here');
  });

  it("answer a type the API does not customise with AWS's default template and the type's status", () => {
    const answer = new GatewayResponses([]).answer('THROTTLED', scopeFor('Too Many Requests', ''), undefined);
    expect(answer).toMatchObject({ status: 429, body: '{"message":"Too Many Requests"}', headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' } });
  });

  it('map header parameters from literals and the method request', () => {
    const responses = new GatewayResponses([{ responseType: 'INVALID_API_KEY', responseTemplates: {}, responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://example.com'", 'gatewayresponse.header.x-sent-key': 'method.request.header.X-Api-Key' } }]);
    const scope = { ...scopeFor('Forbidden', ''), request: { header: { 'x-api-key': 'wrong' }, querystring: {}, path: {} } };
    expect(responses.answer('INVALID_API_KEY', scope, undefined).headers).toMatchObject({ 'access-control-allow-origin': 'https://example.com', 'x-sent-key': 'wrong' });
  });

  describe("the stack's BAD_REQUEST_BODY template", () => {
    let template: string;
    let previous: string;

    beforeAll(async () => {
      const json = await pipelineStackJson();
      template = (resourceOf(json, 'aws_api_gateway_gateway_response', 'bad-request-body').response_templates as Record<string, string>)['application/json'] as string;
      // The template this branch replaced, as it was synthesized.
      previous = `{"message": "the body does not match the reading schema", "details": "$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\'", "'")"}`;
    }, 120_000);

    it('gives valid JSON for any message and validation text, however hostile (property)', () => {
      fc.assert(
        fc.property(hostileText, hostileText, (message, validation) => {
          const body = JSON.parse(substitute(template, scopeFor(message, validation))) as Record<string, unknown>;
          return body.message === message && body.requestId === REQUEST_ID;
        }),
        { numRuns: 500 },
      );
    });

    it('where the template it replaced gave invalid JSON on AWS for every validation message', () => {
      expect(() => JSON.parse(substitute(previous, scopeFor('Invalid request body', '[object has missing required properties (["id"])]')))).toThrow(SyntaxError);
      expect(() => JSON.parse(substitute(previous, scopeFor('Invalid request body', 'no quotes at all')))).toThrow(SyntaxError);
    });
  });
});
