/**
 * Synthetic sensor readings like the 2016 report's test script (its appendix 6): temperatures drawn
 * from a Gaussian around 20 °C (σ 3), rounded to two decimals and sent as strings, with
 * the Python `str(datetime.utcnow())` timestamp, in the 2016 report's exact body format.
 */

/** The 2016 report's distribution and threshold range. */
export const SEED_READINGS = { mean: 20, stddev: 3, min: 18, max: 25, metric: 'temperature' } as const;

/** A small seedable PRNG (mulberry32), so a run can be repeated exactly with `--seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One draw of N(mean, stddev²) by the Box-Muller transform. */
export function gaussian(random: () => number, mean: number, stddev: number): number {
  const u = 1 - random(); // (0, 1]: the logarithm stays finite
  const v = random();
  return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Rounds to two decimals as the 2016 script did (`str(round(x, 2))`): Python writes a whole float as `21.0`. */
export function temperatureText(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

/**
 * Microsecond timestamps that only ever increase, per thing: two readings of one thing
 * in the same millisecond would otherwise share a table key and one would overwrite the other.
 */
export class ReadingClock {
  private readonly last = new Map<string, number>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Epoch microseconds for the next reading of `thingId`. */
  next(thingId: string): number {
    const micros = Math.max(this.nowMs() * 1000, (this.last.get(thingId) ?? 0) + 1);
    this.last.set(thingId, micros);
    return micros;
  }
}

/** Python's `str(datetime.utcnow())`: `2016-09-09 13:33:07.381019` (no fraction when it is zero, as Python prints it). */
export function seedTimestamp(epochMicros: number): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = epochMicros % 1_000_000;
  const whole = new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
  return micros === 0 ? whole : `${whole}.${String(micros).padStart(6, '0')}`;
}

/** The 2016 report's request body, byte for byte in its key order: `{"Data": {"id": ..., "temperature": "19.57", "timestamp": ...}}`. */
export function seedBody(thingId: string, temperature: string, timestamp: string): string {
  return JSON.stringify({ Data: { id: thingId, [SEED_READINGS.metric]: temperature, timestamp } });
}
