/**
 * Body validation against the stack's models: the validator's wording, and large bodies
 * checked in worker threads with the same outcome as on the calling thread. (How long the
 * event loop is held is measured by `npm run bench:api-gateway`, not asserted here.)
 */
import { BodyValidation } from '../../../local/api-gateway/body-validation';
import { pipelineStackJson, resourceOf } from './fixture';

/** A 10 MB-class body with hundreds of thousands of keys beside the reading. */
function manyKeysBody(keys: number): Buffer {
  const metrics = Array.from({ length: keys }, (_, index) => `"m${index}":${index}`).join(',');
  return Buffer.from(`{"Data":{"id":"things/big","timestamp":1,${metrics}}}`);
}

describe('body validation', () => {
  let models: Record<string, object>;

  beforeAll(async () => {
    const json = await pipelineStackJson();
    const schemaOf = (suffix: string) => JSON.parse(resourceOf(json, 'aws_api_gateway_model', suffix).schema as string) as object;
    models = { SingleReading: schemaOf('put-reading-model'), ReadingBatch: schemaOf('post-batch-model') };
  }, 120_000);

  // Wording of API Gateway's validator, e.g. `object has missing required properties (["body","subject","to"])`
  // (https://github.com/RafPe/serverless-reqvalidator-plugin/issues/1, community).
  it.each([
    ['{"Data": []}', 'SingleReading', 'instance type (array) does not match any allowed primitive type (allowed: ["object"])'],
    ['{}', 'SingleReading', 'object has missing required properties (["Data"])'],
    ['{"Data": [], "Extra": 1, "More": 2}', 'ReadingBatch', 'object instance has properties which are not allowed by the schema: ["Extra","More"]'],
    ['{"Data": []}', 'ReadingBatch', 'array is too short: must have at least 1 elements but instance has 0 elements'],
    ['{"Data": {"id": "", "timestamp": 1, "t": 1}}', 'SingleReading', 'string "" is too short (length: 0, required minimum: 1)'],
    ['{"Data": {"id": "a", "timestamp": -1, "t": 1}}', 'SingleReading', 'instance failed to match exactly one schema (matched 0 out of 2)'],
    ['{"Data": {"id": "a", "timestamp": 1}}', 'SingleReading', 'object has too few properties (found 2 but schema requires at least 3)'],
    ['not json', 'SingleReading', 'Invalid JSON in request body: Unexpected token'],
  ])('words %s against %s as API Gateway does', async (body, model, message) => {
    const validation = new BodyValidation(models);
    const check = await validation.check(model, Buffer.from(body));
    expect(check.ok).toBe(false);
    expect(!check.ok && check.message).toContain(message);
    await validation.close();
  });

  it('checks bodies above the threshold in workers, with the same outcome as on the calling thread', async () => {
    const inline = new BodyValidation(models, { workerThresholdBytes: Number.MAX_SAFE_INTEGER });
    const pooled = new BodyValidation(models, { workerThresholdBytes: 1024, workers: 2 });
    const valid = Buffer.from(JSON.stringify({ Data: Array.from({ length: 500 }, (_, index) => ({ id: `things/${index}`, timestamp: index, temperature: index / 10 })) }));
    const big = manyKeysBody(300_000);
    expect(big.byteLength).toBeGreaterThan(4_000_000);
    const [validInline, validPooled, bigInline, ...bigPooled] = await Promise.all([
      inline.check('ReadingBatch', valid),
      pooled.check('ReadingBatch', valid),
      inline.check('SingleReading', big),
      pooled.check('SingleReading', big),
      pooled.check('SingleReading', big),
      pooled.check('SingleReading', big),
    ]);
    expect(validPooled).toEqual(validInline);
    expect(validPooled.ok).toBe(true);
    for (const outcome of bigPooled) expect(outcome).toEqual(bigInline);
    expect(bigInline).toEqual({ ok: false, message: 'object has too many properties (found 300002 but schema requires at most 52)' });
    await Promise.all([inline.close(), pooled.close()]);
  }, 60_000);
});
