/**
 * What a reviewer needs from a stack's plan: how many resources change and how, every
 * replacement and destruction with the attributes that force it, the changes to access,
 * and the guard's verdict on resources that hold data.
 */
import { statefulResourceType } from '../policy/stateful-resources';
import { PIPELINE_OUTPUTS, REPOSITORY_OUTPUTS, SCALING_OUTPUTS, STACK_NAMES, type StackName } from '../stacks/output-names';
import { formatPath, kindOf, maskedSides, valueAt, type ChangeKind, type Plan, type ResourceChange } from './plan-format';
import { securityChangeOf, type SecurityChange } from './plan-security';

export interface Counts {
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly destroy: number;
  /** Existing objects brought under Terraform (import blocks). */
  readonly import: number;
  /** Resources at a new address (moved blocks), whatever else changes. */
  readonly move: number;
  /** Resources removed from the state but left in AWS (removed blocks). */
  readonly forget: number;
}

/** An attribute whose change forces the replacement. */
export interface ForcedBy {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** A resource that a plan replaces or destroys. */
export interface Removal {
  readonly address: string;
  readonly type: string;
  readonly action: 'replace' | 'destroy';
  /** Why Terraform chose it, in words (from `action_reason`). */
  readonly reason?: string;
  /** For a replacement: which object exists first. */
  readonly order?: 'destroy then create' | 'create then destroy';
  /** Set for a leftover object of an earlier create-before-destroy. */
  readonly deposed?: string;
  readonly forcedBy: readonly ForcedBy[];
  /** Set when the type holds data: what a destroy loses. */
  readonly holdsData?: { readonly kind: string; readonly loses: string };
  /**
   * For a destroy because the address left the configuration: resources of the same type
   * the plan creates, one of which is likely the same thing under a new construct id.
   */
  readonly createdAlongside?: readonly string[];
}

export interface StackReview {
  readonly file: string;
  /** The stack the plan is of, or undefined when its outputs match none. */
  readonly stack?: StackName;
  readonly terraformVersion?: string;
  /** Terraform stopped with an error (prevent_destroy, for one): the plan cannot be applied. */
  readonly errored: boolean;
  readonly counts: Counts;
  readonly removals: readonly Removal[];
  readonly security: readonly SecurityChange[];
}

export interface GuardFinding {
  readonly stack?: StackName;
  readonly file: string;
  readonly address: string;
  readonly action: 'replace' | 'destroy';
  readonly kind: string;
  readonly loses: string;
}

export interface Review {
  readonly stacks: readonly StackReview[];
  readonly guard: {
    readonly passed: boolean;
    /** Resources that hold data and would be destroyed or replaced, not allowed. */
    readonly blocked: readonly GuardFinding[];
    /** The same, allowed with --allow-destroy. */
    readonly allowed: readonly GuardFinding[];
    /** --allow-destroy addresses that match nothing the plans destroy (a typo, or a stale flag). */
    readonly unusedAllowances: readonly string[];
  };
}

/**
 * The stacks' named outputs (stacks/output-names.ts): every plan of a stack carries them in
 * its configuration, planned values and output changes, even a plan that destroys
 * everything, so they tell the stacks apart whatever the resources are.
 */
const STACK_OUTPUTS: Readonly<Record<StackName, readonly string[]>> = {
  repository: Object.values(REPOSITORY_OUTPUTS),
  pipeline: Object.values(PIPELINE_OUTPUTS),
  scaling: Object.values(SCALING_OUTPUTS),
};

/** The stack whose outputs the plan declares, or undefined when none (or more than one) matches. */
export function recogniseStack(plan: Plan): StackName | undefined {
  const names = new Set([
    ...Object.keys(plan.configuration?.root_module?.outputs ?? {}),
    ...Object.keys(plan.planned_values?.outputs ?? {}),
    ...Object.keys(plan.prior_state?.values?.outputs ?? {}),
    ...Object.keys(plan.output_changes ?? {}),
  ]);
  const matching = STACK_NAMES.filter((stack) => STACK_OUTPUTS[stack].some((output) => names.has(output)));
  return matching.length === 1 ? matching[0] : undefined;
}

const REASONS: Readonly<Record<string, string>> = {
  replace_because_cannot_update: 'an attribute cannot change in place',
  replace_because_tainted: 'it is tainted: a failed create, or terraform taint',
  replace_by_request: 'replacement was requested (-replace)',
  replace_by_triggers: 'a replace_triggered_by reference changed',
  delete_because_no_resource_config: 'it is no longer in the configuration: removed, or its construct id or path changed',
  delete_because_no_module: 'its module is no longer in the configuration',
  delete_because_wrong_repetition: 'its count or for_each changed kind',
  delete_because_count_index: 'its index is beyond the new count',
  delete_because_each_key: 'its key is no longer in for_each',
  delete_because_no_move_target: 'the target of its moved block does not exist',
};

function removalOf(change: ResourceChange, changes: readonly ResourceChange[]): Removal | undefined {
  const kind = kindOf(change.change.actions);
  if (change.mode !== 'managed' || (kind !== 'replace' && kind !== 'destroy')) return undefined;
  const { before, after } = maskedSides(change.change);
  const stateful = statefulResourceType(change.type);
  const reason = change.action_reason === undefined ? undefined : (REASONS[change.action_reason] ?? change.action_reason);
  return {
    address: change.address,
    type: change.type,
    action: kind,
    ...(reason === undefined ? {} : { reason }),
    ...(kind === 'replace' ? { order: change.change.actions[0] === 'delete' ? 'destroy then create' : 'create then destroy' } : {}),
    ...(change.deposed === undefined ? {} : { deposed: change.deposed }),
    forcedBy: (change.change.replace_paths ?? []).map((path) => ({ path: formatPath(path), before: valueAt(before, path) ?? null, after: valueAt(after, path) ?? null })),
    ...(stateful === undefined ? {} : { holdsData: { kind: stateful.kind, loses: stateful.loses } }),
    ...(change.action_reason === 'delete_because_no_resource_config' ? createdAlongside(change, changes) : {}),
  };
}

function createdAlongside(removed: ResourceChange, changes: readonly ResourceChange[]): Pick<Removal, 'createdAlongside'> {
  const created = changes.filter((change) => change.mode === 'managed' && change.type === removed.type && kindOf(change.change.actions) === 'create').map((change) => change.address);
  return created.length === 0 ? {} : { createdAlongside: created };
}

function countsOf(changes: readonly ResourceChange[]): Counts {
  const managed = changes.filter((change) => change.mode === 'managed');
  const kinds = managed.map((change) => kindOf(change.change.actions));
  const count = (kind: ChangeKind) => kinds.filter((k) => k === kind).length;
  return {
    create: count('create'),
    update: count('update'),
    replace: count('replace'),
    destroy: count('destroy'),
    import: managed.filter((change) => change.change.importing !== undefined).length,
    move: managed.filter((change) => change.previous_address !== undefined && change.previous_address !== change.address).length,
    forget: count('forget'),
  };
}

/** Reviews one stack's plan. */
export function reviewPlan(plan: Plan, file: string): StackReview {
  const changes = plan.resource_changes ?? [];
  const prior = new Map((plan.prior_state?.values?.root_module?.resources ?? []).map((resource) => [resource.address, resource.values]));
  const stack = recogniseStack(plan);
  return {
    file,
    ...(stack === undefined ? {} : { stack }),
    ...(plan.terraform_version === undefined ? {} : { terraformVersion: plan.terraform_version }),
    errored: plan.errored === true,
    counts: countsOf(changes),
    removals: changes.map((change) => removalOf(change, changes)).filter((removal): removal is Removal => removal !== undefined),
    security: changes.map((change) => securityChangeOf(change, (address) => prior.get(address))).filter((change): change is SecurityChange => change !== undefined),
  };
}

/** Reviews every plan, in the stacks' deploy order (plans of no known stack last), and applies the guard. */
export function reviewPlans(plans: readonly { readonly file: string; readonly plan: Plan }[], allowDestroy: readonly string[] = []): Review {
  const order = (review: StackReview) => (review.stack === undefined ? STACK_NAMES.length : STACK_NAMES.indexOf(review.stack));
  const stacks = plans.map(({ file, plan }) => reviewPlan(plan, file)).sort((a, b) => order(a) - order(b));
  const allowances = new Set(allowDestroy);
  const findings = stacks.flatMap((review) =>
    review.removals.flatMap((removal): GuardFinding[] =>
      removal.holdsData === undefined
        ? []
        : [{ ...(review.stack === undefined ? {} : { stack: review.stack }), file: review.file, address: removal.address, action: removal.action, ...removal.holdsData }],
    ),
  );
  const blocked = findings.filter((finding) => !allowances.has(finding.address));
  const allowed = findings.filter((finding) => allowances.has(finding.address));
  const unusedAllowances = [...allowances].filter((address) => !findings.some((finding) => finding.address === address));
  return { stacks, guard: { passed: blocked.length === 0, blocked, allowed, unusedAllowances } };
}
