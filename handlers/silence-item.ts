/**
 * A silence: notices of a series, or of every series under a prefix, held back for a
 * window of time. Silences live in one partition of the alerts table, sorted by their end.
 */
import { ATTRIBUTES } from './contract';
import { asString, type Item } from './item-codec';
import { seriesIdProblem } from './reading';

/** The alerts-table partition silences live in: no series is called this (a series id has a "/"). */
export const SILENCES_PARTITION = '(silences)';

export const SILENCE_ATTRIBUTES = {
  id: 'SilenceId',
  target: 'Target',
  startsAt: 'StartsAt',
  endsAt: 'EndsAt',
  createdBy: 'CreatedBy',
  createdAt: 'CreatedAt',
  reason: 'Reason',
} as const;

export interface Silence {
  readonly id: string;
  /** A series id, or a prefix ending in "/" that covers every series under it. */
  readonly target: string;
  /** Normalised timestamps; the window is [startsAt, endsAt). */
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  /** ISO 8601 wall clock. */
  readonly createdAt: string;
  readonly reason: string;
}

/** Silences sort by their end, so "silences still running at t" is one Query from t on. */
export const silenceKey = (silence: Pick<Silence, 'endsAt' | 'id'>): string => `${silence.endsAt}#${silence.id}`;

export function encodeSilence(silence: Silence): Item {
  const S = SILENCE_ATTRIBUTES;
  return {
    [ATTRIBUTES.series]: SILENCES_PARTITION,
    [ATTRIBUTES.timestamp]: silenceKey(silence),
    [S.id]: silence.id,
    [S.target]: silence.target,
    [S.startsAt]: silence.startsAt,
    [S.endsAt]: silence.endsAt,
    [S.createdBy]: silence.createdBy,
    [S.createdAt]: silence.createdAt,
    [S.reason]: silence.reason,
  };
}

export function decodeSilence(item: Item): Silence | undefined {
  const S = SILENCE_ATTRIBUTES;
  const fields = [S.id, S.target, S.startsAt, S.endsAt, S.createdBy, S.createdAt].map((name) => asString(item[name]));
  if (fields.some((field) => field === undefined)) return undefined;
  const [id, target, startsAt, endsAt, createdBy, createdAt] = fields as string[];
  return { id: id!, target: target!, startsAt: startsAt!, endsAt: endsAt!, createdBy: createdBy!, createdAt: createdAt!, reason: typeof item[S.reason] === 'string' ? (item[S.reason] as string) : '' };
}

/** Whether a silence target is well formed: a series id, or a prefix ending in "/". */
export function silenceTargetProblem(target: string): string | undefined {
  if (target.endsWith('/')) return target.length >= 2 && !/[\u0000-\u001f]/.test(target) ? undefined : `a prefix must be at least one character before its final "/", without control characters`;
  const problem = seriesIdProblem(target);
  return problem === undefined ? undefined : `${problem}; or give a prefix ending in "/" (every series under it)`;
}

/** Whether `silence` holds the notices of `series` at `time` (a normalised timestamp). */
export const silenceCovers = (silence: Silence, series: string, time: string): boolean =>
  silence.startsAt <= time && time < silence.endsAt && (silence.target.endsWith('/') ? series.startsWith(silence.target) : series === silence.target);
