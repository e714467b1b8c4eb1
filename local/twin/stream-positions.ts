/**
 * Where a reader of a stream may resume after a restart when the records it read are
 * finished out of order (a Firehose delivery stream writes transformed records later than
 * the ones its processor dropped or failed): per shard, the sequence number of the last
 * record before which every record read is finished.
 */
export interface TrackedRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

export class StreamPositions<R extends TrackedRecord> {
  /** Records read and not yet passed, per shard, in reading order, with whether each is finished. */
  private readonly shards = new Map<string, { records: R[]; finished: Set<R>; head: number }>();

  read(record: R): void {
    let shard = this.shards.get(record.shardId);
    if (shard === undefined) this.shards.set(record.shardId, (shard = { records: [], finished: new Set(), head: 0 }));
    shard.records.push(record);
  }

  /** Marks records finished; returns, per shard whose position moved, the new position. */
  finish(records: Iterable<R>): Map<string, string> {
    const touched = new Set<string>();
    for (const record of records) {
      this.shards.get(record.shardId)?.finished.add(record);
      touched.add(record.shardId);
    }
    const moved = new Map<string, string>();
    for (const shardId of touched) {
      const shard = this.shards.get(shardId);
      if (shard === undefined) continue;
      let passed: R | undefined;
      while (shard.head < shard.records.length && shard.finished.has(shard.records[shard.head] as R)) {
        passed = shard.records[shard.head] as R;
        shard.finished.delete(passed);
        shard.head += 1;
      }
      if (passed === undefined) continue;
      moved.set(shardId, passed.sequenceNumber);
      // Drop the passed prefix now and then, not on every call.
      if (shard.head > 1024 && shard.head * 2 > shard.records.length) {
        shard.records.splice(0, shard.head);
        shard.head = 0;
      }
    }
    return moved;
  }
}
