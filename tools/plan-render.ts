/**
 * The plan review as text for a terminal and as Markdown for a pull-request comment. Both
 * say the same things in the same order: per stack the counts, the replacements and
 * destructions, the security-relevant changes; then the guard's verdict.
 */
import type { GuardFinding, Review, StackReview } from './plan-analysis';
import { isMask, type ChangeKind } from './plan-format';
import type { FieldChange, SecurityChange } from './plan-security';

/** Longest value shown inline; the JSON report always has the whole value. */
const MAX_VALUE = 200;

const SYMBOLS: Readonly<Record<ChangeKind, string>> = { create: '+', update: '~', replace: '-/+', destroy: '-', read: '<=', forget: '.', 'no-op': ' ' };

/** A value as it reads in a plan: strings quoted, nothing as (none), long values cut. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (isMask(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function stackTitle(review: StackReview): string {
  const name = review.stack === undefined ? 'unrecognised stack (its outputs match no stack of this platform)' : `${review.stack} stack`;
  return `${name} (${review.file}${review.terraformVersion === undefined ? '' : `, Terraform ${review.terraformVersion}`})`;
}

function countsLine({ counts }: StackReview): string {
  const main = `${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ${counts.destroy} to destroy`;
  const extra = [
    counts.import > 0 ? `${counts.import} to import` : '',
    counts.move > 0 ? `${counts.move} moved` : '',
    counts.forget > 0 ? `${counts.forget} to forget (left in AWS)` : '',
  ].filter(Boolean);
  return extra.length === 0 ? main : `${main} (${extra.join(', ')})`;
}

/** One field change as lines (without indentation). */
function fieldLines(field: FieldChange, code: (text: string) => string = (text) => text): string[] {
  if ('statements' in field) {
    return field.statements.map((s) => `${code(field.path)} ${s.statement} ${s.change}: ${s.details.map((detail) => code(detail)).join('; ')}`);
  }
  if ('added' in field) {
    return [...field.added.map((item) => `${code(field.path)} + ${code(showValue(item))}`), ...field.removed.map((item) => `${code(field.path)} - ${code(showValue(item))}`)];
  }
  const [before, after] = [showValue(field.before), showValue(field.after)];
  if (before.length + after.length <= MAX_VALUE) return [`${code(field.path)}: ${code(before)} → ${code(after)}`];
  return [`${code(field.path)} before: ${code(before)}`, `${code(field.path)} after: ${code(after)}`];
}

/** For an address that left the configuration while one of its type appears: how to keep the object. */
function renameHint(address: string, created: readonly string[], code: (text: string) => string = (text) => text): string {
  return `renamed to ${created.map(code).join(' or ')} (created in this plan)? Keep the object: call ${code(`moveFromId("${address}")`)} on the new resource (a moved block) instead of destroying it`;
}

function guardLine(finding: GuardFinding): string {
  return `${finding.stack ?? finding.file}: ${finding.address} (${finding.kind}, ${finding.action}) loses ${finding.loses}`;
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

function securityText(change: SecurityChange): string[] {
  return [
    `    ${SYMBOLS[change.action]} ${change.address} (${change.category}, ${change.action})`,
    ...change.fields.flatMap((field) => fieldLines(field)).map((line) => `        ${line}`),
    ...change.widens.map((widen) => `        ! widens access: ${widen}`),
  ];
}

/** The review as lines of text. */
export function textReport(review: Review): string[] {
  const lines: string[] = [];
  for (const stack of review.stacks) {
    lines.push(stackTitle(stack), `  ${countsLine(stack)}`);
    if (stack.errored) lines.push('  ! Terraform stopped with an error while planning: this plan cannot be applied (see the error terraform printed).');
    lines.push('', `  Replaced or destroyed: ${stack.removals.length === 0 ? 'none' : stack.removals.length}`);
    for (const removal of stack.removals) {
      const how = [removal.reason, removal.order].filter(Boolean).join('; ');
      lines.push(`    ${SYMBOLS[removal.action]} ${removal.address}${removal.deposed === undefined ? '' : ` (deposed object ${removal.deposed})`}: ${removal.action}${how === '' ? '' : ` (${how})`}`);
      for (const forced of removal.forcedBy) lines.push(`        forced by ${forced.path}: ${showValue(forced.before)} → ${showValue(forced.after)}`);
      if (removal.holdsData !== undefined) lines.push(`        ! holds data (${removal.holdsData.kind}): loses ${removal.holdsData.loses}`);
      if (removal.createdAlongside !== undefined) lines.push(`        ${renameHint(removal.address, removal.createdAlongside)}`);
    }
    lines.push('', `  Security-relevant changes: ${stack.security.length === 0 ? 'none' : stack.security.length}`);
    for (const change of stack.security) lines.push(...securityText(change));
    lines.push('');
  }
  const { guard } = review;
  if (guard.passed) {
    lines.push(`Guard: passed. No resource that holds data is destroyed or replaced${guard.allowed.length === 0 ? '' : ` except ${plural(guard.allowed.length, 'allowed one')}`}.`);
  } else {
    lines.push(`Guard: BLOCKED. ${plural(guard.blocked.length, 'resource')} that hold${guard.blocked.length === 1 ? 's' : ''} data would be destroyed or replaced:`);
    for (const finding of guard.blocked) lines.push(`  ${guardLine(finding)}`);
    lines.push(`If that is intended, review again with ${guard.blocked.map((finding) => `--allow-destroy ${finding.address}`).join(' ')}`);
  }
  for (const finding of guard.allowed) lines.push(`  allowed: ${guardLine(finding)}`);
  for (const address of guard.unusedAllowances) lines.push(`  note: --allow-destroy ${address} matches nothing these plans destroy or replace`);
  return lines;
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return longest === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

/** The review as a pull-request comment. */
export function markdownReport(review: Review): string {
  const out: string[] = ['## Terraform plan review', ''];
  const { guard } = review;
  if (guard.passed) out.push(`**Guard: passed.** No resource that holds data is destroyed or replaced${guard.allowed.length === 0 ? '' : ` except ${plural(guard.allowed.length, 'allowed one')}`}.`);
  else {
    out.push('> [!CAUTION]', `> **Guard: blocked.** ${plural(guard.blocked.length, 'resource')} that hold${guard.blocked.length === 1 ? 's' : ''} data would be destroyed or replaced:`);
    for (const finding of guard.blocked) out.push(`> - ${finding.stack ?? finding.file}: ${code(finding.address)} (${finding.kind}, ${finding.action}) loses ${finding.loses}`);
    out.push(`>`, `> If that is intended, review again with ${guard.blocked.map((finding) => code(`--allow-destroy ${finding.address}`)).join(' ')}.`);
  }
  for (const finding of guard.allowed) out.push(`- allowed: ${finding.stack ?? finding.file}: ${code(finding.address)} (${finding.kind}, ${finding.action})`);
  for (const address of guard.unusedAllowances) out.push(`- note: ${code(`--allow-destroy ${address}`)} matches nothing these plans destroy or replace`);
  out.push('', '| stack | create | update | replace | destroy |', '|---|---:|---:|---:|---:|');
  for (const stack of review.stacks) out.push(`| ${stack.stack ?? stack.file} | ${stack.counts.create} | ${stack.counts.update} | ${stack.counts.replace} | ${stack.counts.destroy} |`);
  for (const stack of review.stacks) {
    out.push('', `### ${stackTitle(stack)}`, '', countsLine(stack));
    if (stack.errored) out.push('', '> [!WARNING]', '> Terraform stopped with an error while planning: this plan cannot be applied.');
    if (stack.removals.length > 0) {
      out.push('', '**Replaced or destroyed**', '');
      for (const removal of stack.removals) {
        const how = [removal.reason, removal.order].filter(Boolean).join('; ');
        out.push(`- ${code(SYMBOLS[removal.action])} ${code(removal.address)}: ${removal.action}${how === '' ? '' : ` (${how})`}`);
        for (const forced of removal.forcedBy) out.push(`  - forced by ${code(forced.path)}: ${code(showValue(forced.before))} → ${code(showValue(forced.after))}`);
        if (removal.holdsData !== undefined) out.push(`  - :warning: holds data (${removal.holdsData.kind}): loses ${removal.holdsData.loses}`);
        if (removal.createdAlongside !== undefined) out.push(`  - ${renameHint(removal.address, removal.createdAlongside, code)}`);
      }
    }
    if (stack.security.length > 0) {
      out.push('', '**Security-relevant changes**', '');
      for (const change of stack.security) {
        out.push(`- ${code(SYMBOLS[change.action])} ${code(change.address)} (${change.category}, ${change.action})`);
        for (const line of change.fields.flatMap((field) => fieldLines(field, code))) out.push(`  - ${line}`);
        for (const widen of change.widens) out.push(`  - :warning: widens access: ${widen}`);
      }
    }
  }
  return out.join('\n');
}
