/**
 * The second line of defence against losing data: every resource whose type holds data
 * (policy/stateful-resources.ts) gets `lifecycle.prevent_destroy`, so `terraform plan`
 * fails instead of planning to destroy or replace it. (The first line is the guard of
 * `npm run plan:review`: prevent_destroy goes with the resource's configuration, so a
 * renamed construct id, which removes the old address from the configuration, still plans
 * a destroy that only the review catches.)
 *
 * A deliberate teardown sets `allowDestroy` in the platform configuration; synth then
 * leaves prevent_destroy off, prints a warning for every resource it no longer protects,
 * and the policy pack lists each one as suppressed.
 */
import { Aspects, TerraformResource, type IAspect, type TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
import { statefulResourceType } from '../policy/stateful-resources';
import { suppressionsOf, suppressPolicy } from '../policy/suppressions';

/** The policy rule that checks prevent_destroy (policy/rules/prevent-destroy.ts). */
const PREVENT_DESTROY_RULE = 'DATA-001';

/** Why the rule does not apply during a teardown; synth prints it with every suppression. */
export const TEARDOWN_REASON = 'allowDestroy is on for a deliberate teardown; turn it off again once the teardown is done';

export interface PreventDestroyProps {
  /**
   * Leave prevent_destroy off, for a deliberate teardown.
   * @default false
   */
  readonly allowDestroy?: boolean;
  /**
   * Where the teardown warnings go (one call per line).
   * @default console.warn
   */
  readonly warn?: (line: string) => void;
}

/**
 * Sets `prevent_destroy` on each resource that holds data, unless the resource's own
 * construct already decided (a `preventDestroy` it set stays, and the policy pack judges it).
 * Runs as an aspect, so it sees every resource however late it was added to the stack, and
 * may run more than once (each synth invokes aspects again) with the same result.
 */
export class PreventDestroy implements IAspect {
  private readonly warned = new WeakSet<IConstruct>();

  constructor(private readonly props: PreventDestroyProps = {}) {}

  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node)) return;
    const stateful = statefulResourceType(node.terraformResourceType);
    if (stateful === undefined || node.lifecycle?.preventDestroy !== undefined) return;
    if (this.props.allowDestroy !== true) {
      node.lifecycle = { ...node.lifecycle, preventDestroy: true };
      return;
    }
    if (!suppressionsOf(node).some((suppression) => suppression.ruleId === PREVENT_DESTROY_RULE)) {
      suppressPolicy(node, PREVENT_DESTROY_RULE, TEARDOWN_REASON);
    }
    if (!this.warned.has(node)) {
      this.warned.add(node);
      const warn = this.props.warn ?? ((line: string) => console.warn(line));
      warn(
        `WARNING: allowDestroy is on: ${node.node.path} (${node.terraformResourceType}.${node.friendlyUniqueId}) is not protected by prevent_destroy; ` +
          `destroying it loses ${stateful.loses}.`,
      );
    }
  }
}

/** Puts every resource of `stack` that holds data under prevent_destroy (or, with allowDestroy, says loudly that it is not). */
export function protectStatefulResources(stack: TerraformStack, props: PreventDestroyProps = {}): void {
  Aspects.of(stack).add(new PreventDestroy(props));
}
