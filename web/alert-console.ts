/**
 * The alerts across the fleet, acknowledgements and silences, over the platform's tables:
 * every read is a Query, never a Scan.
 *
 * - Alerts: the notice that opens an alert carries the keys of the alerts table's `fleet`
 *   index (handlers/contract.ts FLEET_INDEX), partition `<state>#<kind>`, sort key
 *   `<opened at>#<series>`. "Newest alerts of these kinds in these states" is one Query per
 *   partition asked for (at most six), newest first, merged; the cursor is the sort key
 *   the page ended on, so each next page is the same Queries from there.
 * - Acknowledging: the series' thresholds item is marked (if the alert is still the series'
 *   open one, once a notice being sent is confirmed), where the consumers read it to stop
 *   reminders, then the opening notice (if still firing). Two conditional writes, not a transaction: the local platform's
 *   DynamoDB (dynalite) has no TransactWriteItems, and the order leaves no state a retry
 *   does not mend.
 * - Silences: items of the alerts table's partition `(silences)`, sorted by their end, so
 *   "silences not over at t" is one Query from t on.
 * - Rules: setting one writes only the rule's attributes of the thresholds item (the alert
 *   state the consumers keep there is left alone), returning the old ones in the same
 *   write, then records the change (who, when, old and new, why) in the partition
 *   `(rule-changes)`; a series' changes are one Query on its key prefix.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ALERT_STATES, acknowledgeEpisodeUpdate, fleetKey, type Acknowledgement, type AlertState } from '../handlers/alert-episode-item';
import { ALERT_STATE_ATTRIBUTES, acknowledgementAttributes } from '../handlers/alert-state-item';
import { updateExpression, type Item } from '../handlers/item-codec';
import { decodeNotice, type AlertHistoryEntry } from '../handlers/notice-item';
import { RULE_CHANGES_PARTITION, decodeRuleChange, encodeRuleChange, ruleChangesPrefix, type RuleChange } from '../handlers/rule-change-item';
import { hasRule, readRule, ruleUpdate } from '../handlers/rule-item';
import { SILENCES_PARTITION, decodeSilence, encodeSilence, silenceKey, type Silence } from '../handlers/silence-item';
import type { AlertKind, AlertRule } from '../handlers/alert-rules';
import { ATTRIBUTES, FLEET_INDEX } from '../handlers/contract';
import { splitSeriesId } from '../handlers/reading-item';
import type { Page } from './repository';

export type { RuleChange, Silence };

/** What setting a rule did: `unchanged` when the series already had exactly that rule (nothing is recorded then). */
export type SetRuleResult = { readonly outcome: 'changed'; readonly change: RuleChange } | { readonly outcome: 'unchanged'; readonly rule: AlertRule };

/** How long acknowledging waits for a notice being sent on the series to be confirmed (normally milliseconds). */
const CLAIM_WAIT_MS = 3_000;

/** One alert as the fleet list shows it. */
export interface FleetAlert extends Omit<AlertHistoryEntry, 'alert' | 'claimToken' | 'key'> {
  /** Names the alert in `POST /api/alerts/ack`. */
  readonly id: string;
  readonly thingId: string;
  readonly metric: string;
  /** `breach` or `no-data`. */
  readonly alertKind: AlertKind;
  readonly state: AlertState;
  readonly resolvedAt: string | null;
  readonly acknowledged: Acknowledgement | null;
}

export interface FleetQuery {
  readonly kinds: readonly AlertKind[];
  readonly states: readonly AlertState[];
  readonly limit: number;
  /** Resume after this sort key (exclusive), newest first: the `next` of the previous page. */
  readonly after?: string;
}

export interface SilenceQuery {
  /** Only silences not over at this time (normalised timestamp). */
  readonly notOverAt?: string;
  /** Only silences whose target is this series or a prefix of it. */
  readonly series?: string;
  readonly limit: number;
  /** Resume after this key, latest end first. */
  readonly after?: string;
}

export type AcknowledgeResult =
  | { readonly outcome: 'acknowledged'; readonly alert: FleetAlert }
  | { readonly outcome: 'not-found' }
  | { readonly outcome: 'not-firing'; readonly state: AlertState };

export interface AlertConsole {
  fleetAlerts(query: FleetQuery): Promise<Page<FleetAlert>>;
  acknowledge(id: string, acknowledgement: Acknowledgement): Promise<AcknowledgeResult>;
  createSilence(silence: Omit<Silence, 'id'>): Promise<Silence>;
  silences(query: SilenceQuery): Promise<Page<Silence>>;
  /** The series' rule, or null when it has none. */
  rule(series: string): Promise<AlertRule | null>;
  /** Sets the series' rule exactly (a field not given is removed) and records the change. */
  setRule(series: string, rule: AlertRule, by: { changedBy: string; changedAt: string; reason: string }): Promise<SetRuleResult>;
  /** The series' rule changes, newest first. */
  ruleChanges(query: { series: string; limit: number; after?: string }): Promise<Page<RuleChange>>;
}

/** An alert's id: its series and the history key of its opening notice, opaque to callers. */
export const alertId = (series: string, key: string): string => Buffer.from(JSON.stringify([series, key]), 'utf8').toString('base64url');

export function parseAlertId(id: string): { series: string; key: string } | undefined {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(id)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((part) => typeof part === 'string' && part !== '')) return { series: parsed[0] as string, key: parsed[1] as string };
  } catch {
    // not an id this API issued
  }
  return undefined;
}

/** The fleet view of an opening notice (undefined for an item that opens no alert). */
export function fleetAlertOf(item: Item): FleetAlert | undefined {
  const { alert, claimToken: _token, key, ...entry } = decodeNotice(item);
  if (alert === null) return undefined;
  const { thingId, metric } = splitSeriesId(entry.series);
  return { ...entry, id: alertId(entry.series, key), thingId, metric, alertKind: alert.kind, state: alert.state, resolvedAt: alert.resolvedAt, acknowledged: alert.acknowledged };
}

export interface DynamoAlertConsoleOptions {
  /** Must read numbers exactly (createWebDynamoClient's does). */
  readonly client: DynamoDBDocumentClient;
  readonly tables: { readonly alerts: string; readonly thresholds: string };
}

export function createDynamoAlertConsole(options: DynamoAlertConsoleOptions): AlertConsole {
  const { client, tables } = options;

  /** Up to `limit` + 1 items of one fleet partition, newest first, after `after`. */
  async function partition(key: string, limit: number, after: string | undefined): Promise<Item[]> {
    const input: QueryCommandInput = {
      TableName: tables.alerts,
      IndexName: FLEET_INDEX.name,
      KeyConditionExpression: after === undefined ? '#key = :key' : '#key = :key AND #sort < :after',
      ExpressionAttributeNames: { '#key': FLEET_INDEX.hashKey, ...(after === undefined ? {} : { '#sort': FLEET_INDEX.rangeKey }) },
      ExpressionAttributeValues: { ':key': key, ...(after === undefined ? {} : { ':after': after }) },
      ScanIndexForward: false,
    };
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: limit + 1 - items.length }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && items.length <= limit);
    return items;
  }

  async function conditionalUpdate(input: UpdateCommandInput): Promise<boolean> {
    try {
      await client.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Marks the series' item acknowledged if `key` is still its open alert. The opening
   * notice is recorded a moment before the sender confirms the series' state (the claim
   * protocol, handlers/alert-state.ts): while a claim is on the item, wait for it rather
   * than call a just-opened alert resolved.
   */
  async function markSeries(series: string, state: { readonly acknowledged: string; readonly openedAt: string }, key: string): Promise<boolean> {
    const mark = () =>
      conditionalUpdate({
        TableName: tables.thresholds,
        Key: { [ATTRIBUTES.series]: series },
        UpdateExpression: 'SET #acknowledged = :key',
        ConditionExpression: '#opened = :key',
        ExpressionAttributeNames: { '#acknowledged': state.acknowledged, '#opened': state.openedAt },
        ExpressionAttributeValues: { ':key': key },
      });
    let waitedMs = 0;
    for (let attempt = 0; ; attempt += 1) {
      const marked = await mark();
      if (marked || waitedMs >= CLAIM_WAIT_MS) return marked;
      const { Item: item } = await client.send(
        new GetCommand({ TableName: tables.thresholds, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true, ProjectionExpression: '#claim', ExpressionAttributeNames: { '#claim': ALERT_STATE_ATTRIBUTES.claim } }),
      );
      // No claim now: the sender may have confirmed the alert since the update was refused, so one last try decides.
      if (item?.[ALERT_STATE_ATTRIBUTES.claim] === undefined) return mark();
      const pause = Math.min(50 * 2 ** attempt, 500, CLAIM_WAIT_MS - waitedMs);
      await new Promise((resolve) => setTimeout(resolve, pause));
      waitedMs += pause;
    }
  }

  async function openingNotice(series: string, key: string): Promise<Item | undefined> {
    const { Item: item } = await client.send(new GetCommand({ TableName: tables.alerts, Key: { [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: key }, ConsistentRead: true }));
    return item;
  }

  return {
    async fleetAlerts(query) {
      const keys = query.states.flatMap((state) => query.kinds.map((kind) => fleetKey(state, kind)));
      const pages = await Promise.all(keys.map((key) => partition(key, query.limit, query.after)));
      const sortOf = (item: Item) => String(item[FLEET_INDEX.rangeKey]);
      const merged = pages.flat().sort((a, b) => (sortOf(a) < sortOf(b) ? 1 : sortOf(a) > sortOf(b) ? -1 : 0));
      const kept = merged.slice(0, query.limit);
      const items = kept.map(fleetAlertOf).filter((alert): alert is FleetAlert => alert !== undefined);
      const last = kept[kept.length - 1];
      return merged.length > query.limit && last !== undefined ? { items, next: sortOf(last) } : { items };
    },

    async acknowledge(id, acknowledgement) {
      const parsed = parseAlertId(id);
      if (parsed === undefined) return { outcome: 'not-found' };
      const found = await openingNotice(parsed.series, parsed.key);
      const alert = found === undefined ? undefined : fleetAlertOf(found);
      if (alert === undefined) return { outcome: 'not-found' };
      if (alert.state !== 'firing') return { outcome: 'not-firing', state: alert.state };
      // The series' item first: from then on the consumers send no reminder, even should the
      // second write not happen (the list would say firing until acknowledged again).
      const stillOpen = await markSeries(parsed.series, acknowledgementAttributes(alert.alertKind), parsed.key);
      const episode = acknowledgeEpisodeUpdate(alert.alertKind, acknowledgement).set;
      const names = Object.keys(episode);
      const marked =
        stillOpen &&
        (await conditionalUpdate({
          TableName: tables.alerts,
          Key: { [ATTRIBUTES.series]: parsed.series, [ATTRIBUTES.timestamp]: parsed.key },
          UpdateExpression: `SET ${names.map((_, index) => `#e${index} = :e${index}`).join(', ')}`,
          ConditionExpression: '#fleet = :firing',
          ExpressionAttributeNames: { ...Object.fromEntries(names.map((name, index) => [`#e${index}`, name])), '#fleet': FLEET_INDEX.hashKey },
          ExpressionAttributeValues: { ...Object.fromEntries(names.map((name, index) => [`:e${index}`, episode[name]])), ':firing': fleetKey('firing', alert.alertKind) },
        }));
      if (!marked) {
        // It recovered, or someone else acknowledged it, between the read and the writes.
        const now = await openingNotice(parsed.series, parsed.key);
        const current = now === undefined ? undefined : fleetAlertOf(now);
        return current === undefined ? { outcome: 'not-found' } : { outcome: 'not-firing', state: current.state === 'firing' ? 'resolved' : current.state };
      }
      const updated = await openingNotice(parsed.series, parsed.key);
      const acknowledged = updated === undefined ? undefined : fleetAlertOf(updated);
      return acknowledged === undefined ? { outcome: 'not-found' } : { outcome: 'acknowledged', alert: acknowledged };
    },

    async createSilence(fields) {
      const silence: Silence = { ...fields, id: randomUUID() };
      await client.send(new PutCommand({ TableName: tables.alerts, Item: encodeSilence(silence), ConditionExpression: 'attribute_not_exists(#series)', ExpressionAttributeNames: { '#series': ATTRIBUTES.series } }));
      return silence;
    },

    async silences(query) {
      const conditions = ['#series = :partition'];
      const values: Record<string, unknown> = { ':partition': SILENCES_PARTITION };
      if (query.after !== undefined) {
        conditions.push('#time < :after');
        values[':after'] = query.after;
      }
      const covers = (silence: Silence) =>
        query.series === undefined || (silence.target.endsWith('/') ? query.series.startsWith(silence.target) : query.series === silence.target);
      const kept: { silence: Silence; key: string }[] = [];
      let start: Item | undefined;
      let more = false;
      let done = false;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tables.alerts,
            KeyConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: { '#series': ATTRIBUTES.series, ...(query.after === undefined ? {} : { '#time': ATTRIBUTES.timestamp }) },
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const silence = decodeSilence(item);
          if (silence === undefined) continue;
          // Latest end first: once one is over, every later one is too.
          done = query.notOverAt !== undefined && silence.endsAt <= query.notOverAt;
          if (done) break;
          if (!covers(silence)) continue;
          more = kept.length === query.limit;
          if (more) break;
          kept.push({ silence, key: silenceKey(silence) });
        }
        start = done || more ? undefined : page.LastEvaluatedKey;
      } while (start !== undefined);
      const last = kept[kept.length - 1];
      return { items: kept.map((entry) => entry.silence), ...(more && last !== undefined ? { next: last.key } : {}) };
    },

    async rule(series) {
      const { Item } = await client.send(new GetCommand({ TableName: tables.thresholds, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true }));
      return hasRule(Item) ? readRule(Item).rule : null;
    },

    async setRule(series, rule, by) {
      const update = ruleUpdate(rule);
      const { Attributes } = await client.send(
        new UpdateCommand({ TableName: tables.thresholds, Key: { [ATTRIBUTES.series]: series }, ...updateExpression(update), ReturnValues: 'ALL_OLD' }),
      );
      const before = hasRule(Attributes) ? readRule(Attributes).rule : null;
      const after = readRule(update.set).rule;
      if (before !== null && JSON.stringify(ruleUpdate(before).set) === JSON.stringify(ruleUpdate(after).set)) return { outcome: 'unchanged', rule: after };
      const change: RuleChange = { id: randomUUID(), series, before, after, ...by };
      await client.send(new PutCommand({ TableName: tables.alerts, Item: encodeRuleChange(change) }));
      return { outcome: 'changed', change };
    },

    async ruleChanges(query) {
      const prefix = ruleChangesPrefix(query.series);
      const after = query.after !== undefined && query.after.startsWith(prefix) ? query.after : undefined;
      const page = await client.send(
        new QueryCommand({
          TableName: tables.alerts,
          KeyConditionExpression: after === undefined ? '#series = :partition AND begins_with(#key, :prefix)' : '#series = :partition AND #key BETWEEN :prefix AND :after',
          ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#key': ATTRIBUTES.timestamp },
          ExpressionAttributeValues: { ':partition': RULE_CHANGES_PARTITION, ':prefix': prefix, ...(after === undefined ? {} : { ':after': after }) },
          ScanIndexForward: false,
          // One more than a page tells whether there is a next; BETWEEN includes `after` itself.
          Limit: query.limit + (after === undefined ? 1 : 2),
        }),
      );
      const items = (page.Items ?? []).filter((item) => item[ATTRIBUTES.timestamp] !== after);
      const kept = items.slice(0, query.limit);
      const last = kept[kept.length - 1];
      const changes = kept.map(decodeRuleChange).filter((change): change is RuleChange => change !== undefined);
      return { items: changes, ...(items.length > query.limit && last !== undefined ? { next: String(last[ATTRIBUTES.timestamp]) } : {}) };
    },
  };
}

export { ALERT_STATES };
