/**
 * The series view's rule editor: the alert rule prefilled from GET /api/thresholds/changes,
 * saved through PUT /api/thresholds (for the series, or for every series the overview's
 * filter matches, after a confirm step), problems shown beside the form as the API words
 * them, and the changes listed (who, when, old → new, why).
 *
 * The rule is read when the editor is opened, not with every series shown. A refresh never
 * touches the form: it is filled when the editor opens on another series or after a save,
 * so what someone is typing is never overwritten. Deployed without sign-in the API
 * answers 403 and the form shows that answer: changes need a signed-in user.
 */
import type { RuleJson } from '../../handlers/rule-item';
import type { Decimal } from '../../handlers/decimal';
import type { RuleChangeJson } from '../api-types';
import { MAX_BULK_SERIES } from '../rule-limits';
import { ApiError, fetchRuleChanges, matchingSeries, putRule, type RuleFields, type SeriesPageQuery } from './api';
import { formatTime, type TimeZoneChoice } from './time';

/** Rule changes listed under the form. */
const HISTORY_SHOWN = 20;

export interface RuleEditorOptions {
  /** The overview's filter, for the bulk action. */
  readonly filter: () => Omit<SeriesPageQuery, 'limit' | 'cursor'>;
  readonly zone: () => TimeZoneChoice;
  /** Called after a save, so the facts line and chart show the new thresholds. */
  readonly saved: () => Promise<void>;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const FIELDS = ['min', 'max', 'for', 'hysteresis', 'noDataAfterSeconds', 'recipients'] as const;
type Field = (typeof FIELDS)[number];
const LABELS: Record<Field, string> = { min: 'min', max: 'max', for: 'waiting period', hysteresis: 'hysteresis', noDataAfterSeconds: 'no-data period', recipients: 'recipients' };

/** A JSON number arrives as a Decimal (parseExactJson). */
const shown = (value: Decimal | number | string | null): string => (value === null ? '' : typeof value === 'object' ? value.text : String(value));
const input = (field: Field): HTMLInputElement => element<HTMLInputElement>(`rule-${field}`);

/** What one field said before and after a change, e.g. `max 78 → 80.5`; the periods in seconds. */
export function describeChange(change: Pick<RuleChangeJson, 'before' | 'after'>): string {
  const differences = FIELDS.flatMap((field) => {
    const before = change.before === null ? '' : shown(change.before[field] as Decimal | null);
    const after = shown(change.after[field] as Decimal | null);
    const text = (value: string) => (value === '' || (field === 'for' && value === '0') ? '—' : field === 'for' || field === 'noDataAfterSeconds' ? `${value} s` : value);
    return text(before) === text(after) ? [] : [`${LABELS[field]} ${text(before)} → ${text(after)}`];
  });
  return change.before === null ? `rule set: ${differences.join(', ')}` : differences.join(', ');
}

export function ruleEditor(options: RuleEditorOptions) {
  let series: string | undefined;
  /** The series the form was last filled for. */
  let loaded: string | undefined;
  const editor = element<HTMLDetailsElement>('rule-editor');
  /** The series the confirm step will change. */
  let pending: string[] = [];
  const form = element<HTMLFormElement>('rule-form');
  const error = element('rule-error');
  const status = element('rule-status');
  const confirm = element('rule-confirm');

  function fill(rule: RuleJson | null): void {
    for (const field of FIELDS) input(field).value = rule === null ? '' : shown(rule[field] as Decimal | null);
    if (rule !== null && shown(rule.for) === '0') input('for').value = '';
    element<HTMLInputElement>('rule-reason').value = '';
  }

  function showHistory(items: RuleChangeJson[]): void {
    const rows = items.map((change) => {
      const item = document.createElement('li');
      const when = document.createElement('time');
      when.dateTime = change.changedAt;
      when.textContent = formatTime(change.changedAt, options.zone(), 'minutes');
      item.append(when, ` · ${change.changedBy} · ${describeChange(change)}${change.reason === '' ? '' : ` · “${change.reason}”`}`);
      return item;
    });
    element('rule-history').replaceChildren(...rows);
    element('rule-history-empty').hidden = rows.length > 0;
  }

  function fields(): RuleFields {
    const text = (field: Field): string | null => (input(field).value.trim() === '' ? null : input(field).value.trim());
    // Not a number: sent as typed, so the API says what is wrong rather than the field being dropped.
    const seconds = (field: Field): number | string | null => {
      const typed = text(field);
      return typed === null || !Number.isFinite(Number(typed)) ? typed : Number(typed);
    };
    return { min: text('min'), max: text('max'), for: seconds('for'), hysteresis: text('hysteresis'), noDataAfterSeconds: seconds('noDataAfterSeconds'), recipients: text('recipients') };
  }

  function problem(caught: unknown): void {
    error.textContent = caught instanceof ApiError ? caught.message : String(caught);
    status.textContent = '';
  }

  async function load(next: string): Promise<void> {
    loaded = next;
    error.textContent = '';
    status.textContent = '';
    confirm.hidden = true;
    const answer = await fetchRuleChanges(next, HISTORY_SHOWN);
    if (series !== next) return;
    fill(answer.rule);
    showHistory(answer.items);
  }

  async function save(target: { thing: string } | { series: string[] }): Promise<void> {
    error.textContent = '';
    status.textContent = 'Saving…';
    try {
      const answer = await putRule(target, fields(), element<HTMLInputElement>('rule-reason').value.trim());
      const changed = answer.changes.length;
      const outcome = 'thing' in target ? (changed === 0 ? 'No change: the series already has this rule.' : 'Saved.') : `Saved: ${changed} series changed, ${answer.unchanged.length} already had this rule.`;
      // The form and history as stored now, then what happened, where a screen reader hears it.
      if (series !== undefined) await load(series);
      status.textContent = outcome;
      await options.saved();
    } catch (caught) {
      problem(caught);
    }
  }

  const fillIfOpen = () => {
    if (editor.open && series !== undefined && series !== loaded) {
      void load(series).catch((caught: unknown) => {
        loaded = undefined; // read again at the next opening
        problem(caught);
      });
    }
  };
  editor.addEventListener('toggle', fillIfOpen);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (series !== undefined) void save({ thing: series });
  });

  element('rule-bulk').addEventListener('click', () => {
    error.textContent = '';
    void matchingSeries(options.filter(), MAX_BULK_SERIES + 1)
      .then(({ series: matching, total }) => {
        if (total === 0) return problem('No series match the filter.');
        if (total > MAX_BULK_SERIES) return problem(`${total.toLocaleString('en')} series match the filter: one change covers at most ${MAX_BULK_SERIES}; narrow the filter.`);
        pending = matching;
        element('rule-confirm-text').textContent = `Apply this rule to the ${total.toLocaleString('en')} series matching the filter? Their current rules are replaced; each change is recorded.`;
        confirm.hidden = false;
        element('rule-confirm-yes').focus();
      })
      .catch(problem);
  });
  element('rule-confirm-yes').addEventListener('click', () => {
    confirm.hidden = true;
    void save({ series: pending }).then(() => element('rule-bulk').focus());
  });
  element('rule-confirm-no').addEventListener('click', () => {
    confirm.hidden = true;
    element('rule-bulk').focus();
  });

  return {
    /** The series shown: the open editor is filled for it unless it already is (a refresh keeps what is typed). */
    show(next: string): void {
      series = next;
      fillIfOpen();
    },
  };
}
