/**
 * The notifier's read-through cache of thresholds items across warm invocations
 * (alert-notifier.ts keeps it consistent with its own writes).
 */
import type { SeriesAlertRecord } from './alert-state-item';

export interface ThresholdCacheOptions {
  /** @default 60_000 */
  readonly ttlMs?: number;
  /** Oldest entries are dropped beyond this many series. @default 100_000 */
  readonly maxEntries?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * Thresholds items (or their absence) by series, for a short time, so a warm container
 * does not re-read them for every batch. The notifier's own writes update the entries; a
 * change by anyone else shows within the TTL, and the conditional writes keep decisions
 * on a stale entry from sending anything twice.
 */
export class ThresholdCache {
  private readonly entries = new Map<string, { record: SeriesAlertRecord | null; loadedAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ThresholdCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs >= 0) || !(this.maxEntries >= 1)) throw new Error('ThresholdCache needs ttlMs >= 0 and maxEntries >= 1');
  }

  /** The cached record (`null`: known to have no thresholds item), or `undefined` when unknown or expired. */
  get(series: string): SeriesAlertRecord | null | undefined {
    const entry = this.entries.get(series);
    if (entry === undefined) return undefined;
    if (this.now() - entry.loadedAt >= this.ttlMs) {
      this.entries.delete(series);
      return undefined;
    }
    return entry.record;
  }

  set(series: string, record: SeriesAlertRecord | null): void {
    this.entries.delete(series);
    this.entries.set(series, { record, loadedAt: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Updates a record we changed ourselves, keeping its age (it was not re-read). */
  update(series: string, record: SeriesAlertRecord): void {
    const entry = this.entries.get(series);
    if (entry !== undefined) entry.record = record;
  }

  forget(series: string): void {
    this.entries.delete(series);
  }
}
