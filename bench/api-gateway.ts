/**
 * `npm run bench:api-gateway`: what hostile bodies cost the API Gateway twin's process,
 * and what the twin adds to a request, measured side by side in one run.
 *
 *   blocking   the longest event-loop stall (perf_hooks histogram, 1 ms resolution) while
 *              N bodies of ~10 MB with hundreds of thousands of keys are refused in
 *              parallel, with body validation in workers (the twin) and, for comparison,
 *              on the event loop; plus the slowest /livez-style probe answered meanwhile
 *   overhead   median latency of a 500-reading batch through the twin, next to the same
 *              PutRecords (the records its template packs the batch into) sent straight
 *              to the local Kinesis
 *
 *   npm run bench:api-gateway -- --parallel 3 --keys 400000 --requests 200
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Command, InvalidArgumentError } from 'commander';
import { startApiGatewayTwin, type ApiGatewayTwin } from '../local/api-gateway';
import { MappingTemplate } from '../local/api-gateway/vtl';
import { loadStack } from '../local/twin/load-stack';
import { synthesizeStacks } from '../local/twin/synth';
import { startKinesis } from '../__tests__/local/harness';

const KEY = 'bench-key';

const positive = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

function hostileBody(keys: number): string {
  return `{"Data":{"id":"things/bench","timestamp":1,${Array.from({ length: keys }, (_, index) => `"metric_${index}":${index}`).join(',')}}}`;
}

/** Sends the hostile bodies in parallel while probing the loop; the longest stall and probe latency. */
async function blocking(baseUrl: string, body: Uint8Array<ArrayBuffer>, parallel: number): Promise<{ stallMs: number; probeMs: number; refusedMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let probeMs = 0;
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const started = performance.now();
      await new Promise<void>((resolve) => setImmediate(resolve));
      probeMs = Math.max(probeMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  histogram.enable();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: parallel }, () => fetch(`${baseUrl}/prod/thingsstream`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body }).then((response) => response.status)),
  );
  const refusedMs = performance.now() - started;
  histogram.disable();
  probing = false;
  await probe;
  if (answers.some((status) => status !== 400)) throw new Error(`expected every hostile body refused with 400, got ${answers.join(', ')}`);
  return { stallMs: histogram.max / 1e6, probeMs, refusedMs };
}

/** The records the stack's batch template makes of `batch`, rendered once, outside the timing. */
function packedRecords(stack: ReturnType<typeof loadStack>, batch: string): { PartitionKey: string; ExplicitHashKey: string; Data: Buffer }[] {
  const integration = stack.resources('aws_api_gateway_integration').find((resource) => String(resource.config.uri).endsWith('action/PutRecords'));
  const source = (integration?.config.request_templates as Record<string, string> | undefined)?.['application/json'];
  if (source === undefined) throw new Error('the stack has no PutRecords integration with a JSON request template');
  const rendered = new MappingTemplate(source, 'batch request template').render({ payload: { body: batch, params: { path: {}, querystring: {}, header: {} } }, context: {}, stageVariables: {} });
  return (JSON.parse(rendered) as { Records: { PartitionKey: string; ExplicitHashKey: string; Data: string }[] }).Records.map((record) => ({ ...record, Data: Buffer.from(record.Data, 'base64') }));
}

async function main(): Promise<void> {
  const options = new Command('bench:api-gateway')
    .option('--parallel <n>', 'hostile bodies sent at once', positive, 3)
    .option('--keys <n>', 'keys in each hostile body', positive, 400_000)
    .option('--requests <n>', 'batch requests for the overhead figure', positive, 200)
    .parse()
    .opts<{ parallel: number; keys: number; requests: number }>();

  const synth = await synthesizeStacks({ configuration: {} });
  const stack = loadStack(synth.stackFile('pipeline'), { apiKeyValue: KEY });
  const streamName = String(stack.resources('aws_kinesis_stream')[0]?.config.name);
  const kinesis = await startKinesis(streamName, 4);
  const twins: ApiGatewayTwin[] = [];
  const twinWith = async (workerThresholdBytes: number) => {
    const twin = await startApiGatewayTwin({ stack, host: '127.0.0.1', port: 0, kinesisEndpoint: kinesis.emulator.endpoint, region: stack.region, accountId: stack.accountId, apiKeyValue: KEY, log: () => undefined, validation: { workerThresholdBytes } });
    twins.push(twin);
    return twin;
  };
  try {
    // Encoded once, so the client's own work does not show as the server's stall.
    const body = new Uint8Array(Buffer.from(hostileBody(options.keys)));
    const withWorkers = await twinWith(256 * 1024);
    const onLoop = await twinWith(Number.MAX_SAFE_INTEGER);
    // Warm both (worker start, schema compilation) before measuring.
    await blocking(withWorkers.baseUrl, body, options.parallel);
    await blocking(onLoop.baseUrl, body, 1);
    const worker = await blocking(withWorkers.baseUrl, body, options.parallel);
    const loop = await blocking(onLoop.baseUrl, body, options.parallel);

    const batch = JSON.stringify({ Data: Array.from({ length: 500 }, (_, index) => ({ id: `things/bench/${index % 100}`, temperature: 20 + index / 100, timestamp: 1_700_000_000_000 + index })) });
    const records = packedRecords(stack, batch);
    const viaTwin: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < options.requests; round += 1) {
      // Alternate, so load on a shared machine lands on both sides alike.
      let started = performance.now();
      const response = await fetch(`${withWorkers.baseUrl}/prod/thingsstream/batch`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: batch });
      await response.text();
      if (response.status !== 200) throw new Error(`batch answered ${response.status}`);
      viaTwin.push(performance.now() - started);
      started = performance.now();
      await kinesis.client.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
      direct.push(performance.now() - started);
    }

    const mb = (body.byteLength / 1024 / 1024).toFixed(1);
    console.log(`hostile bodies: ${options.parallel} in parallel, ${mb} MB and ${options.keys.toLocaleString('en')} keys each`);
    console.log(`  validation in workers (the twin): longest event-loop stall ${worker.stallMs.toFixed(1)} ms, slowest probe ${worker.probeMs.toFixed(1)} ms, all refused in ${worker.refusedMs.toFixed(0)} ms`);
    console.log(`  validation on the event loop:     longest event-loop stall ${loop.stallMs.toFixed(1)} ms, slowest probe ${loop.probeMs.toFixed(1)} ms, all refused in ${loop.refusedMs.toFixed(0)} ms`);
    console.log(`  ratio (on the loop / in workers): ${(loop.stallMs / worker.stallMs).toFixed(1)}x longer stall`);
    const twinMedian = median(viaTwin);
    const directMedian = median(direct);
    console.log(`batch of 500 readings, ${options.requests} requests: median ${twinMedian.toFixed(2)} ms through the twin, ${directMedian.toFixed(2)} ms for its PutRecords (${records.length} packed records) straight to Kinesis; the twin adds ${(twinMedian - directMedian).toFixed(2)} ms (${(twinMedian / directMedian).toFixed(2)}x)`);
  } finally {
    await Promise.all(twins.map((twin) => twin.close()));
    await kinesis.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
