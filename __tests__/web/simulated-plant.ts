/**
 * A plant as the dashboard would show it after a week: 135 series (3 sites × 15 things ×
 * temperature, pressure, flow), each with its latest reading, and one boiler whose
 * temperature was read every 12 s for the whole week (50,400 readings): a daily cycle,
 * sensor noise, and one afternoon when it ran hot past its 78 °C limit, with the alerts
 * the alert handler would have sent. Deterministic (a seeded generator), so the browser
 * test can assert on it and its screenshot shows the same picture every run.
 */
import { Decimal } from '../../handlers/decimal';
import type { AlertRecord } from '../../web/repository';
import { InMemoryRepository } from '../../web/repository';

export const BOILER = 'things/harrow/boiler-1/temperature';
export const BOILER_LIMITS = { min: 55, max: 78 } as const;
/** The same boiler's pressure, read once a minute: it follows the temperature, and rose with it on the hot afternoon. */
export const BOILER_PRESSURE = 'things/harrow/boiler-1/pressure';
const PRESSURE_INTERVAL_MS = 60_000;
export const READING_INTERVAL_MS = 12_000;
export const WEEK_MS = 7 * 86_400_000;
export const SITES = ['harrow', 'kew', 'wembley'] as const;
export const PLANT_SERIES = SITES.flatMap((site) =>
  Array.from({ length: 15 }, (_, thing) => ['temperature', 'pressure', 'flow'].map((metric) => `things/${site}/${String(thing + 1).padStart(3, '0')}/${metric}`)).flat(),
);

const isoMicros = (millis: number): string => new Date(millis).toISOString().replace('Z', '000Z');

/** A small linear congruential generator: the same noise every run. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648 - 0.5;
  };
}

/** Things that stopped reporting: how long before the end they last did. */
export const SILENT_THINGS: Readonly<Record<string, number>> = { 'things/wembley/014': 3 * 3_600_000 + 20 * 60_000, 'things/kew/009': 47 * 60_000 };

export interface Plant {
  readonly repository: InMemoryRepository;
  /** When the week ends (epoch ms): the last boiler reading. */
  readonly end: number;
  /** The hot afternoon, two days before the end. */
  readonly excursion: { readonly from: number; readonly to: number };
  readonly alerts: readonly AlertRecord[];
  readonly boilerReadings: number;
}

export function simulatedPlant(end: number): Plant {
  const repository = new InMemoryRepository();
  const random = noise(42);
  const start = end - WEEK_MS;
  const excursion = { from: end - 2 * 86_400_000 - 6 * 3_600_000, to: end - 2 * 86_400_000 - 3 * 3_600_000 };
  let readings = 0;
  for (let time = start + READING_INTERVAL_MS; time <= end; time += READING_INTERVAL_MS) {
    const hourOfDay = (time % 86_400_000) / 3_600_000;
    // Warmest in the afternoon; during the fault it climbs to about 84 °C and falls back.
    const daily = 66 + 4 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI);
    const fault = time >= excursion.from && time <= excursion.to ? 16 * Math.sin(((time - excursion.from) / (excursion.to - excursion.from)) * Math.PI) : 0;
    const value = Math.round((daily + fault + 3 * random()) * 100) / 100;
    repository.putReading(BOILER, { timestamp: isoMicros(time), value });
    readings++;
    if (time % PRESSURE_INTERVAL_MS < READING_INTERVAL_MS) {
      repository.putReading(BOILER_PRESSURE, { timestamp: isoMicros(time), value: Math.round((1.8 + 0.04 * (daily + fault - 66) + 0.05 * random()) * 1000) / 1000 });
    }
  }
  repository.putThresholds(BOILER, BOILER_LIMITS);
  const limit = (value: number) => Decimal.of(value) as Decimal;
  const alerts: AlertRecord[] = [
    { timestamp: isoMicros(excursion.from + 50 * 60_000), kind: 'breach', value: limit(78.31), minThreshold: limit(BOILER_LIMITS.min), maxThreshold: limit(BOILER_LIMITS.max), messageId: 'boiler-1' },
    { timestamp: isoMicros(excursion.from + 65 * 60_000), kind: 'reminder', value: limit(81.9), minThreshold: limit(BOILER_LIMITS.min), maxThreshold: limit(BOILER_LIMITS.max), messageId: 'boiler-2' },
    { timestamp: isoMicros(excursion.to - 48 * 60_000), kind: 'recovery', value: limit(77.6), minThreshold: limit(BOILER_LIMITS.min), maxThreshold: limit(BOILER_LIMITS.max), messageId: 'boiler-3' },
  ];
  for (const alert of alerts) repository.putAlert(BOILER, alert);

  PLANT_SERIES.forEach((series, index) => {
    const metric = series.slice(series.lastIndexOf('/') + 1);
    const thing = series.slice(0, series.lastIndexOf('/'));
    const base = metric === 'temperature' ? 21 : metric === 'pressure' ? 2.4 : 13;
    const spread = metric === 'temperature' ? 6 : metric === 'pressure' ? 0.6 : 4;
    const latest = end - (SILENT_THINGS[thing] ?? (index % 17) * 7_000);
    const value = Math.round((base + spread * random()) * 100) / 100;
    repository.putReading(series, { timestamp: isoMicros(latest), value });
    if (metric === 'temperature') {
      const max = index % 11 === 0 ? 20 : 28;
      repository.putThresholds(series, { min: 15, max });
      // A breached unit crossed its limit some minutes ago, and the alert handler said so.
      if (value > max) repository.putAlert(series, { timestamp: isoMicros(latest - (12 + index) * 60_000), kind: 'breach', value: limit(value), minThreshold: limit(15), maxThreshold: limit(max), messageId: `unit-${index}` });
    }
  });
  return { repository, end, excursion, alerts, boilerReadings: readings };
}
