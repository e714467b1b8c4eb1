/**
 * The mapping-template subset, pinned to API Gateway's documented examples. Unless a test
 * says otherwise, the examples come from the variable reference:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 * (archived copy: https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/master/doc_source/api-gateway-mapping-template-reference.md)
 */
import { compileJsonPath, evaluateJsonPath } from '../../../local/api-gateway/json-path';
import { FOREACH_ITERATION_LIMIT, MappingTemplate, MappingTemplateError, type RequestParameters } from '../../../local/api-gateway/vtl';
import { escapeJavaScript, javaStringHash, urlDecode, urlEncode } from '../../../local/api-gateway/vtl-util';

const NO_PARAMS: RequestParameters = { path: {}, querystring: {}, header: {} };

function render(source: string, body = '', params: RequestParameters = NO_PARAMS, context: Record<string, unknown> = { responseOverride: { header: {} } }): string {
  return new MappingTemplate(source, 'test template').render({ payload: { body, params }, context, stageVariables: {} });
}

describe('mapping templates (Velocity with API Gateway variables)', () => {
  it('maps $context variables as in the "$context variable template example"', () => {
    const context = { stage: 'prod', requestId: 'abcdefg-000-000-0000-abcdefg', apiId: 'abcd1234', resourcePath: '/', resourceId: 'efg567', httpMethod: 'GET', identity: { sourceIp: '192.0.2.1', userAgent: 'curl/7.84.0', apiKey: 'MyTestKey' } };
    const out = render('{"stage" : "$context.stage", "request_id" : "$context.requestId", "api_id" : "$context.apiId", "resource_path" : "$context.resourcePath", "http_method" : "$context.httpMethod", "source_ip" : "$context.identity.sourceIp", "user-agent" : "$context.identity.userAgent", "api_key" : "$context.identity.apiKey"}', '', NO_PARAMS, context);
    expect(JSON.parse(out)).toEqual({ stage: 'prod', request_id: 'abcdefg-000-000-0000-abcdefg', api_id: 'abcd1234', resource_path: '/', http_method: 'GET', source_ip: '192.0.2.1', 'user-agent': 'curl/7.84.0', api_key: 'MyTestKey' });
  });

  it('passes every parameter through as in the "Parameter mapping template example" ($input.params(), keySet, get, $foreach.hasNext)', () => {
    const template = [
      '#set($allParams = $input.params())',
      '{',
      '  "params" : {',
      '    #foreach($type in $allParams.keySet())',
      '    #set($params = $allParams.get($type))',
      '    "$type" : {',
      '      #foreach($paramName in $params.keySet())',
      '      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"',
      '      #if($foreach.hasNext),#end',
      '      #end',
      '    }',
      '    #if($foreach.hasNext),#end',
      '    #end',
      '  }',
      '}',
    ].join('\n');
    const params = { path: { id: 'abc' }, querystring: { name: 'Ada', sort: 'asc' }, header: { 'User-Agent': 'curl' } };
    expect(JSON.parse(render(template, '', params))).toEqual({ params: { path: { id: 'abc' }, querystring: { name: 'Ada', sort: 'asc' }, header: { 'User-Agent': 'curl' } } });
  });

  it('reads a path parameter, sizes a JSONPath result and re-serialises the payload as in "Example Request and Response Using $input"', () => {
    const body = '{"things" : {"1" : {}, "2" : {}, "3" : {}}}';
    const out = render('{"id" : "$input.params(\'id\')", "count" : "$input.path(\'$.things\').size()", "things" : $input.json(\'$.things\')}', body, { ...NO_PARAMS, path: { id: 'abc' } });
    expect(JSON.parse(out)).toEqual({ id: 'abc', count: '3', things: { '1': {}, '2': {}, '3': {} } });
  });

  it('counts a list from $input.path as in the $input.path description (pets example gives 3)', () => {
    const pets = '[{"id": 1, "type": "dog", "price": 249.99}, {"id": 2, "type": "cat", "price": 124.99}, {"id": 3, "type": "fish", "price": 0.99}]';
    expect(render("$input.path('$').count()", pets)).toBe('3');
  });

  it('searches path, then query string, then header for $input.params(x) (header names case-insensitively)', () => {
    const params = { path: { a: 'from-path' }, querystring: { a: 'from-query', b: 'from-query' }, header: { B: 'from-header', 'X-Custom': 'c' } };
    expect(render("$input.params('a') $input.params('b') $input.params('x-custom') [$input.params('missing')]", '', params)).toBe('from-path from-query c []');
  });

  it('turns stringified JSON into an object with $util.parseJson, as in its documented example', () => {
    const body = '{"errorMessage":"{\\"key1\\":\\"var1\\",\\"key2\\":{\\"arr\\":[1,2,3]}}"}';
    const out = render("#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n{\n   \"errorMessageObjKey2ArrVal\" : $errorMessageObj.key2.arr[0]\n}", body);
    expect(JSON.parse(out)).toEqual({ errorMessageObjKey2ArrVal: 1 });
  });

  it("escapes ' as \\' in $util.escapeJavaScript (invalid JSON), undone by the documented .replaceAll(\"\\\\'\",\"'\")", () => {
    const body = JSON.stringify({ name: 'it\'s "quoted"' });
    expect(render("$util.escapeJavaScript($input.path('$.name'))", body)).toBe("it\\'s \\\"quoted\\\"");
    const fixed = render(`{"name": "$util.escapeJavaScript($input.path('$.name')).replaceAll("\\\\'","'")"}`, body);
    expect(JSON.parse(fixed)).toEqual({ name: 'it\'s "quoted"' });
  });

  it('escapes as Apache Commons Lang does: slash, control characters, and every unit above 0x7F as \\uXXXX', () => {
    expect(escapeJavaScript('a/b\\c\n\t\u0001é😀')).toBe('a\\/b\\\\c\\n\\t\\u0001\\u00E9\\uD83D\\uDE00');
  });

  it('form-encodes like Java URLEncoder (space as +, only A-Za-z0-9.-*_ left) and decodes back', () => {
    expect(urlEncode("a b&c=d/é!'()~*._-")).toBe('a+b%26c%3Dd%2F%C3%A9%21%27%28%29%7E*._-');
    expect(urlDecode('a+b%26c')).toBe('a b&c');
    expect(render("$util.urlEncode('x y') $util.base64Encode('héllo') $util.base64Decode('aMOpbGxv')")).toBe('x+y aMOpbGxv héllo');
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-as-kinesis-proxy-export-swagger-with-extensions.html (PutRecord)
  it("renders the Kinesis-proxy example's PutRecord template", () => {
    const template = '{\n    "StreamName": "$input.params(\'stream-name\')",\n    "Data": "$util.base64Encode($input.json(\'$.Data\'))",\n    "PartitionKey": "$input.path(\'$.PartitionKey\')"\n}';
    const out = JSON.parse(render(template, '{"Data": "some data", "PartitionKey": "some key"}', { ...NO_PARAMS, path: { 'stream-name': 'readings' } }));
    expect(out).toEqual({ StreamName: 'readings', Data: Buffer.from('"some data"').toString('base64'), PartitionKey: 'some key' });
  });

  // https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings.html ($foreach.hasNext);
  // index and count are Velocity's own loop variables.
  it('gives #foreach $foreach.index, $foreach.count and $foreach.hasNext', () => {
    expect(render("#foreach($x in $input.path('$.items'))$foreach.index/$foreach.count=$x#if($foreach.hasNext),#end#end", '{"items": ["a", "b", "c"]}')).toBe('0/1=a,1/2=b,2/3=c');
  });

  // https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/13945642c8779810147a5b1f16054f7c2e8b64bb/doc_source/limits.md
  it(`stops a #foreach past ${FOREACH_ITERATION_LIMIT} iterations, API Gateway's limit`, () => {
    expect(render(`#foreach($i in [1..${FOREACH_ITERATION_LIMIT}])x#end`)).toHaveLength(FOREACH_ITERATION_LIMIT);
    expect(() => render(`#foreach($i in [1..${FOREACH_ITERATION_LIMIT + 1}])#if($i > 0)x#end#end`)).toThrow(/more than 1000 iterations/);
    // The limit is per loop: nested loops of 1,000 each are allowed.
    expect(render('#foreach($i in [1..40])#foreach($j in [1..30])#end#end!')).toBe('!');
  });

  it('lets a template override the status with $context.responseOverride.status', () => {
    const context: Record<string, unknown> = { responseOverride: { header: {} } };
    render('#set($context.responseOverride.status = 503)#set($context.responseOverride.header.Retry-After = "5")', '', NO_PARAMS, context);
    expect(context.responseOverride).toEqual({ status: 503, header: { 'Retry-After': '5' } });
  });

  // Whether API Gateway lets a template call String.hashCode() is not documented either way
  // (docs/api-gateway-twin.md lists it as a choice); the engine gives Java's value:
  // https://docs.oracle.com/javase/8/docs/api/java/lang/String.html#hashCode-- (s[0]*31^(n-1) + ... + s[n-1], int arithmetic).
  it.each([
    ['', 0],
    ['hello', 99162322],
    // Two strings with one hash, a classic of Java's algorithm.
    ['Aa', 2112],
    ['BB', 2112],
    // Overflows to Integer.MIN_VALUE.
    ['polygenelubricants', -2147483648],
    // UTF-16 units, not code points or bytes: é is one unit (233), 😀 is two (0xD83D, 0xDE00).
    ['é', 233],
    ['\u{1F600}', 0xd83d * 31 + 0xde00],
  ])("gives %j.hashCode() as Java does (%d)", (text, hash) => {
    expect(javaStringHash(text)).toBe(hash);
    expect(render('$input.path(\'$.id\').hashCode()', JSON.stringify({ id: text }))).toBe(String(hash));
  });

  it('computes the sign-corrected remainder of a negative hashCode (Java % keeps the sign)', () => {
    expect(render('#set($b = $input.path(\'$.id\').hashCode() % 7)$b #if($b < 0)#set($b = $b + 7)#end$b', JSON.stringify({ id: 'polygenelubricants' }))).toBe(`${-2147483648 % 7} ${((-2147483648 % 7) + 7) % 7}`);
  });

  // java.util.List: https://docs.oracle.com/javase/8/docs/api/java/util/List.html (get, set, add, size).
  it('gives lists Java\'s get, set (returning the element replaced), add and size, and fails the template on an index outside the list', () => {
    expect(render('#set($l = ["a", "b"])#set($old = $l.set(1, "c"))#set($ignored = $l.add("d"))$l.get(0)$l.get(1)$l.get(2) $old $l.size()')).toBe('acd b 3');
    expect(() => render('#set($l = ["a"])$l.get(1)')).toThrow(/IndexOutOfBoundsException: Index: 1, Size: 1/);
    expect(() => render('#set($l = ["a"])#set($x = $l.set(2, "b"))')).toThrow(/IndexOutOfBoundsException/);
  });

  it("uses Java's regex replaceAll and matches on strings", () => {
    expect(render("#set($s = 'a1b22c')$s.replaceAll('[0-9]+', '#') $s.matches('[a-c0-9]+') $s.matches('[a-c]+') $s.contains('b2')")).toBe('a#b#c true false true');
  });

  it('leaves an unknown reference as written and $!quiet ones empty, like Velocity', () => {
    expect(render('[$nothing.here] [$!nothing]')).toBe('[$nothing.here] []');
  });

  it('refuses #include (not available in API Gateway) and reports a payload that is not JSON as bad input', () => {
    expect(() => render('#include("x")')).toThrow(/not available/);
    try {
      render("$input.json('$.a')", '{not json');
      throw new Error('rendered');
    } catch (error) {
      expect(error).toBeInstanceOf(MappingTemplateError);
      expect((error as MappingTemplateError).badInput).toBe(true);
    }
  });
});

describe('JSONPath in $input.json and $input.path', () => {
  const document = { store: { book: [{ title: 'a', price: 8 }, { title: 'b', price: 12 }], bicycle: { price: 20 } }, 'odd key': 1 };
  const at = (expression: string) => evaluateJsonPath(compileJsonPath(expression), document);

  it('answers definite paths with one value or nothing', () => {
    expect(at('$.store.book[1].title')).toBe('b');
    expect(at("$['odd key']")).toBe(1);
    expect(at('$.store.book[-1].price')).toBe(12);
    expect(at('$.store.nothing')).toBeUndefined();
  });

  it('answers wildcards and deep scans with the list of matches', () => {
    expect(at('$.store.book[*].title')).toEqual(['a', 'b']);
    expect(at('$..price')).toEqual([8, 12, 20]);
  });

  it('refuses filters and slices by name', () => {
    expect(() => compileJsonPath('$.store.book[?(@.price < 10)]')).toThrow(/not supported/);
    expect(() => compileJsonPath('store')).toThrow(/must start with \$/);
  });

  it('gives "" for $input.json of a missing member', () => {
    expect(render("[$input.json('$.missing')]", '{"a": 1}')).toBe('[]');
  });
});
