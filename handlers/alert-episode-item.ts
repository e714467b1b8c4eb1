/**
 * The alert a notice opens (a breach, or a series falling silent), as the opening notice's
 * item in the alerts table carries it: its fleet index keys (state and kind, then opening
 * time and series, so the web app lists the fleet's alerts newest first), whether it was
 * acknowledged and by whom, and when it was resolved.
 */
import type { AlertKind, NoticeKind } from './alert-rules';
import { FLEET_INDEX } from './contract';
import { asString, type AttributeUpdate, type Item } from './item-codec';

/** The opening notice's attributes that describe its alert. */
export const ALERT_EPISODE_ATTRIBUTES = {
  fleetKey: FLEET_INDEX.hashKey,
  fleetSort: FLEET_INDEX.rangeKey,
  resolvedAt: 'ResolvedAt',
  resolvedBy: 'ResolvedBy',
  acknowledgedBy: 'AcknowledgedBy',
  acknowledgedAt: 'AcknowledgedAt',
  acknowledgedNote: 'AcknowledgedNote',
} as const;

export const ALERT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ALERT_KINDS: readonly AlertKind[] = ['breach', 'no-data'];

/** The fleet index partition of alerts of one kind in one state. */
export const fleetKey = (state: AlertState, kind: AlertKind): string => `${state}#${kind}`;
/** The fleet index sort key: newest first by opening time, unique by series. */
export const fleetSort = (openedKey: string, series: string): string => `${openedKey}#${series}`;

/** The alert a notice opens, if it opens one. */
export const alertKindOpenedBy = (notice: NoticeKind, previous: 'ok' | 'pending' | 'breached' | 'silent' | 'reporting'): AlertKind | undefined =>
  notice === 'no-data' ? 'no-data' : notice === 'breach' && previous !== 'breached' ? 'breach' : undefined;

export interface Acknowledgement {
  readonly by: string;
  /** ISO 8601 wall clock. */
  readonly at: string;
  readonly note: string;
}

/** What an opening notice says about the alert it opened. */
export interface AlertEpisode {
  readonly kind: AlertKind;
  readonly state: AlertState;
  readonly resolvedAt: string | null;
  readonly acknowledged: Acknowledgement | null;
}

/** Reads the alert an opening notice carries; null on any other notice, or one this version cannot read. */
export function decodeEpisode(item: Item): AlertEpisode | null {
  const H = ALERT_EPISODE_ATTRIBUTES;
  const key = asString(item[H.fleetKey]);
  if (key === undefined) return null;
  const [state, kind] = key.split('#');
  if (!(ALERT_STATES as readonly string[]).includes(state ?? '') || !(ALERT_KINDS as readonly string[]).includes(kind ?? '')) return null;
  const by = asString(item[H.acknowledgedBy]);
  const at = asString(item[H.acknowledgedAt]);
  return {
    kind: kind as AlertKind,
    state: state as AlertState,
    resolvedAt: asString(item[H.resolvedAt]) ?? null,
    acknowledged: by === undefined || at === undefined ? null : { by, at, note: typeof item[H.acknowledgedNote] === 'string' ? (item[H.acknowledgedNote] as string) : '' },
  };
}

/** The update that resolves the alert an opening notice opened (idempotent). */
export function resolveEpisodeUpdate(kind: AlertKind, resolvedAt: string, resolvedBy: string): AttributeUpdate {
  const H = ALERT_EPISODE_ATTRIBUTES;
  return { set: { [H.fleetKey]: fleetKey('resolved', kind), [H.resolvedAt]: resolvedAt, [H.resolvedBy]: resolvedBy }, remove: [] };
}

/** The update that acknowledges an alert. */
export function acknowledgeEpisodeUpdate(kind: AlertKind, acknowledgement: Acknowledgement): AttributeUpdate {
  const H = ALERT_EPISODE_ATTRIBUTES;
  return {
    set: {
      [H.fleetKey]: fleetKey('acknowledged', kind),
      [H.acknowledgedBy]: acknowledgement.by,
      [H.acknowledgedAt]: acknowledgement.at,
      [H.acknowledgedNote]: acknowledgement.note,
    },
    remove: [],
  };
}

