/**
 * What the address holds, so a view can be shared, bookmarked, gone Back to, or edited in
 * place: `#series=<id>&range=24h&zoom=<from>/<to>&compare=<id>&compare=<id>`, a custom
 * range as `range=<from>/<to>` (ISO 8601 intervals, UTC). A preset range moves with the
 * clock; a zoom is fixed times; `compare` names the series drawn over the chosen one.
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
  /** Series overlaid on the chart, each on the axis of its unit. */
  readonly compare?: readonly string[];
}

/** Series one chart overlays: beyond a few, lines and axes can no longer be told apart. */
export const MAX_COMPARED = 4;

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
  const compare = comparedWith(parameters.getAll('compare'), series);
  return { ...(series === undefined || series === '' ? {} : { series }), range, ...(zoom === undefined ? {} : { zoom }), ...(compare.length === 0 ? {} : { compare }) };
}

/** The series to overlay: each once, not the chosen one, at most MAX_COMPARED. */
export function comparedWith(ids: readonly string[], series: string | undefined): string[] {
  return [...new Set(ids)].filter((id) => id !== '' && id !== series).slice(0, MAX_COMPARED);
}

const intervalText = (range: TimeRange): string => `${range.from}/${range.to}`;

export function linkHash(link: Link): string {
  const parameters = new URLSearchParams();
  if (link.series !== undefined) parameters.set('series', link.series);
  parameters.set('range', typeof link.range === 'string' ? link.range : intervalText(link.range));
  if (link.zoom !== undefined) parameters.set('zoom', intervalText(link.zoom));
  for (const id of link.compare ?? []) parameters.append('compare', id);
  return `#${parameters}`;
}

export const sameRange = (a: Preset | TimeRange | undefined, b: Preset | TimeRange | undefined): boolean =>
  typeof a === 'string' || typeof b === 'string' || a === undefined || b === undefined ? a === b : a.from === b.from && a.to === b.to;

export const sameCompare = (a: Link, b: Link): boolean => (a.compare ?? []).join('\n') === (b.compare ?? []).join('\n');

/** The times a range covers now: a preset ends now. */
export function resolveRange(range: Preset | TimeRange, now: number): TimeRange {
  if (typeof range !== 'string') return range;
  return { from: new Date(now - PRESETS[range]).toISOString(), to: new Date(now).toISOString() };
}
