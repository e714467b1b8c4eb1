/**
 * What the address holds, so a view can be shared, bookmarked, gone Back to, or edited in
 * place: `#series=<id>&range=24h&zoom=<from>/<to>`, a custom range as `range=<from>/<to>`
 * (ISO 8601 intervals, UTC). A preset range moves with the clock; a zoom is fixed times.
 */
export const PRESETS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '1y': 365 * 86_400_000 } as const;
export type Preset = keyof typeof PRESETS;

export interface TimeRange {
  readonly from: string;
  readonly to: string;
}

export interface Link {
  readonly series?: string;
  readonly range: Preset | TimeRange;
  readonly zoom?: TimeRange;
}

export const DEFAULT_PRESET: Preset = '1h';

const isPreset = (text: string): text is Preset => Object.prototype.hasOwnProperty.call(PRESETS, text);

/** `from/to`, each a time Date.parse reads, from before to; undefined otherwise. */
function parseInterval(text: string | null): TimeRange | undefined {
  if (text === null) return undefined;
  const [from, to, extra] = text.split('/');
  if (from === undefined || to === undefined || extra !== undefined) return undefined;
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs <= fromMs) return undefined;
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

/** The link in an address's hash; what it cannot read falls back to the defaults (a hand-edited link never breaks the page). */
export function readLink(hash: string): Link {
  const parameters = new URLSearchParams(hash.replace(/^#/, ''));
  const series = parameters.get('series') ?? undefined;
  const rangeText = parameters.get('range') ?? DEFAULT_PRESET;
  const range = isPreset(rangeText) ? rangeText : (parseInterval(rangeText) ?? DEFAULT_PRESET);
  const zoom = parseInterval(parameters.get('zoom'));
  return { ...(series === undefined || series === '' ? {} : { series }), range, ...(zoom === undefined ? {} : { zoom }) };
}

const intervalText = (range: TimeRange): string => `${range.from}/${range.to}`;

export function linkHash(link: Link): string {
  const parameters = new URLSearchParams();
  if (link.series !== undefined) parameters.set('series', link.series);
  parameters.set('range', typeof link.range === 'string' ? link.range : intervalText(link.range));
  if (link.zoom !== undefined) parameters.set('zoom', intervalText(link.zoom));
  return `#${parameters}`;
}

export const sameRange = (a: Preset | TimeRange | undefined, b: Preset | TimeRange | undefined): boolean =>
  typeof a === 'string' || typeof b === 'string' || a === undefined || b === undefined ? a === b : a.from === b.from && a.to === b.to;

/** The times a range covers now: a preset ends now. */
export function resolveRange(range: Preset | TimeRange, now: number): TimeRange {
  if (typeof range !== 'string') return range;
  return { from: new Date(now - PRESETS[range]).toISOString(), to: new Date(now).toISOString() };
}
