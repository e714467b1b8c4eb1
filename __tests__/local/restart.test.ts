/**
 * Data survives a graceful restart: readings acknowledged just before a stop are all in
 * the table after the next start, each exactly once, and the consumers pick up where they
 * left off rather than processing the stream again. That alerts are neither lost nor sent
 * twice across a restart is the consumer-kill drill's (verify/drills/consumer-kill.ts),
 * which restarts after SIGKILL, the harder case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { seriesReadings, type TimedReading } from '../../handlers/reading-segment';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { consumerStats, DRILL_CONFIGURATION, FREE_PORTS } from '../../verify/probe';
import { platformTarget, targetDynamo } from '../../tools/target';
import { request, waitFor } from './harness';

const THING = 'things/restart/001';
const SERIES = `${THING}/temperature`;

describe('local platform across a restart', () => {
  let dataDir: string;
  let platform: LocalPlatform | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'local-restart-'));
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The drills' one-second batching window: the stop still comes while the consumers gather their
  // batch (at once, well inside a second), and the restarted ones store the rest without waiting five.
  const start = () => startLocalPlatform({ dataDir, ports: FREE_PORTS, configuration: DRILL_CONFIGURATION, log: () => undefined });

  /** The series' readings as every reader sees them (segment items decoded, one per timestamp). */
  const query = async (running: LocalPlatform, table: string) => {
    const dynamo = targetDynamo(platformTarget(running));
    try {
      const readings: TimedReading[] = [];
      for await (const reading of seriesReadings(dynamo, table, { series: SERIES, consistentRead: true })) readings.push(reading);
      return readings;
    } finally {
      dynamo.destroy();
    }
  };

  it('keeps every acknowledged reading, once, and resumes the stream after its checkpoint', async () => {
    const values = Array.from({ length: 40 }, (_, index) => 20 + (index % 5) / 10);
    const readings = values.map((temperature, index) => ({ id: THING, temperature, timestamp: Date.UTC(2024, 0, 1, 0, 0, index) }));

    const first = await start();
    platform = first;
    const headers = { 'content-type': 'application/json', 'x-api-key': first.apiKey };
    const sent = await request(first.urls.batchIngest, { method: 'POST', headers, body: JSON.stringify({ Data: readings.slice(0, 30) }) });
    // The batch is packed into a record per bucket of thing ids: one here, a single thing.
    expect(sent.json()).toMatchObject({ records: 1, failedRecords: 0 });
    // Stop at once: the consumers may still be gathering their batch.
    await first.stop();
    const doneBeforeStop = { 'store-readings': consumerStats(first, 'store-readings'), 'threshold-alerts': consumerStats(first, 'threshold-alerts') };

    const second = await start();
    platform = second;
    const more = await request(second.urls.batchIngest, { method: 'POST', headers: { ...headers, 'x-api-key': second.apiKey }, body: JSON.stringify({ Data: readings.slice(30) }) });
    expect(more.json()).toMatchObject({ records: 1, failedRecords: 0 });

    const stored = await waitFor('all 40 readings', async () => {
      const readings = await query(second, second.tables.things);
      return readings.length >= 40 ? readings : undefined;
    }, 60_000);
    expect(stored).toHaveLength(40);
    expect(stored.map((reading) => Number(reading.value.text))).toEqual(values);
    expect(new Set(stored.map((reading) => reading.timestamp)).size).toBe(40);

    // Each consumer processed both records once over the two runs: nothing replayed, nothing skipped.
    // The readings are in the table a moment before the mapping counts their batch done: wait for both consumers' counts.
    const consumers = ['store-readings', 'threshold-alerts'] as const;
    await waitFor('both consumers', () => (consumers.every((name) => consumerStats(second, name).recordsDone + doneBeforeStop[name].recordsDone >= 2) ? true : undefined), 60_000);
    for (const name of consumers) {
      expect(doneBeforeStop[name].recordsDone + consumerStats(second, name).recordsDone).toBe(2);
    }
  }, 180_000);
});
