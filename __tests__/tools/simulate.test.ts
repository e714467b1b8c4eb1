import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simulate, thingIds } from '../../tools/simulate';
import type { Target } from '../../tools/target';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly key: string | undefined;
  readonly body: string;
}

/** A stand-in ingest API that records every request and answers as the test decides. */
async function fakeIngest(answer: (request: Received) => { status: number; body: unknown }) {
  const received: Received[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', key: request.headers['x-api-key'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/thingsstream`;
  const target: Target = {
    kind: 'deployment',
    ingestUrl: base,
    batchIngestUrl: `${base}/batch`,
    apiKey: 'sim-key',
    webUrl: 'http://127.0.0.1:1',
    region: 'eu-west-2',
    tables: { things: 't', thresholds: 'th', alerts: 'a', series: 's', rollups: 'r' },
  };
  return {
    received,
    target,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('simulate', () => {
  it("sends rate × duration readings in the 2016 report's body, round-robin over the things, with the API key", async () => {
    const ingest = await fakeIngest(() => ({ status: 200, body: { accepted: 1, failed: 0 } }));
    try {
      const summary = await simulate(ingest.target, { things: 3, rate: 2000, durationSeconds: 0.03, seed: 1, thingPrefix: 'things/test' });
      expect(summary).toMatchObject({ sent: 60, acknowledged: 60, failed: 0, things: ['things/test/001', 'things/test/002', 'things/test/003'] });
      expect(ingest.received).toHaveLength(60);
      expect(ingest.received.every((request) => request.method === 'PUT' && request.url === '/prod/thingsstream' && request.key === 'sim-key')).toBe(true);
      const bodies = ingest.received.map((request) => JSON.parse(request.body) as { Data: Record<string, string> });
      for (const { Data } of bodies) {
        expect(Object.keys(Data)).toEqual(['id', 'temperature', 'timestamp']);
        expect(Data.temperature).toMatch(/^-?\d+\.\d{1,2}$/);
        expect(Data.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
      }
      const perThing = new Map<string, number>();
      for (const { Data } of bodies) perThing.set(Data.id as string, (perThing.get(Data.id as string) ?? 0) + 1);
      expect([...perThing.values()]).toEqual([20, 20, 20]);
      // The out-of-range count matches the values actually sent.
      const outside = bodies.filter(({ Data }) => Number(Data.temperature) < 18 || Number(Data.temperature) > 25).length;
      expect(summary.outOfRange).toBe(outside);
    } finally {
      await ingest.close();
    }
  });

  it('sends batches to the batch endpoint and counts a 503 batch as failed whole (the client must send it again)', async () => {
    const ingest = await fakeIngest(() =>
      ingest.received.length === 1 ? { status: 503, body: { records: 2, failedRecords: 1, message: 'send the whole batch again' } } : { status: 200, body: { records: 2, failedRecords: 0 } },
    );
    try {
      const summary = await simulate(ingest.target, { things: 10, rate: 5000, durationSeconds: 0.05, batchSize: 100, concurrency: 1 });
      expect(ingest.received.map((request) => [request.method, request.url])).toEqual([
        ['POST', '/prod/thingsstream/batch'],
        ['POST', '/prod/thingsstream/batch'],
        ['POST', '/prod/thingsstream/batch'],
      ]);
      expect(ingest.received.map((request) => (JSON.parse(request.body) as { Data: unknown[] }).Data.length)).toEqual([100, 100, 50]);
      expect(summary).toMatchObject({ sent: 250, acknowledged: 150, failed: 100, failures: { 'HTTP 503': 100 } });
    } finally {
      await ingest.close();
    }
  });

  it('counts refused readings by status and keeps a sample of each distinct answer', async () => {
    const ingest = await fakeIngest(() => ({ status: 403, body: { message: 'Forbidden' } }));
    try {
      const summary = await simulate(ingest.target, { things: 1, rate: 1000, durationSeconds: 0.01 });
      expect(summary).toMatchObject({ sent: 10, acknowledged: 0, failed: 10, failures: { 'HTTP 403': 10 } });
      expect(summary.failureSamples).toEqual(['HTTP 403: {"message":"Forbidden"}']);
    } finally {
      await ingest.close();
    }
  });

  it('counts readings it could not deliver at all as network failures', async () => {
    const ingest = await fakeIngest(() => ({ status: 200, body: {} }));
    await ingest.close();
    const summary = await simulate(ingest.target, { things: 1, rate: 1000, durationSeconds: 0.005 });
    expect(summary).toMatchObject({ sent: 5, acknowledged: 0, failed: 5, failures: { network: 5 } });
  });

  it('stops early when asked, finishing what is in flight', async () => {
    const stop = new AbortController();
    const ingest = await fakeIngest(() => {
      stop.abort();
      return { status: 200, body: {} };
    });
    try {
      const summary = await simulate(ingest.target, { things: 1, rate: 10, durationSeconds: 100, signal: stop.signal, concurrency: 1 });
      expect(summary.sent).toBe(1);
      expect(summary.acknowledged).toBe(1);
    } finally {
      await ingest.close();
    }
  });

  it('numbers things with a fixed width', () => {
    expect(thingIds('things/sim', 2)).toEqual(['things/sim/001', 'things/sim/002']);
    expect(thingIds('x', 1200)[1199]).toBe('x/1200');
  });
});
