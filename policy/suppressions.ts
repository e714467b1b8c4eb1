import { TerraformDataSource, TerraformResource } from 'cdktf';
import type { IConstruct } from 'constructs';
import { PLATFORM_RULES, type RuleId } from './rules';

/** Metadata type under which suppressions are stored on the resource's construct node. */
export const SUPPRESSION_METADATA = 'iot-platform:policy-suppression';

/** A reason shorter than this cannot say why the rule does not apply. */
export const MIN_REASON_LENGTH = 20;

export interface Suppression {
  readonly ruleId: RuleId;
  readonly reason: string;
}

const KNOWN_RULES = new Set<string>(PLATFORM_RULES.map((r) => r.id));

/**
 * Exempts one resource from one rule, with a written reason. Call it right after creating
 * the resource, so the exemption sits next to what it exempts; it is listed in the synth
 * output and in the policy report. A suppression that matches no violation fails synth
 * (POL-001), so exemptions cannot outlive their reason.
 *
 * @throws when the reason is missing or too short, the rule id is unknown, the target is not
 * a Terraform resource or data source, or the rule is already suppressed on it.
 */
export function suppressPolicy(resource: TerraformResource | TerraformDataSource, ruleId: RuleId, reason: string): void {
  const where = (resource as IConstruct | undefined)?.node?.path ?? String(resource);
  if (!TerraformResource.isTerraformResource(resource) && !TerraformDataSource.isTerraformDataSource(resource)) {
    throw new Error(`suppressPolicy(${where}, ${ruleId}): a suppression goes on the Terraform resource or data source it exempts, not on a wrapper construct`);
  }
  if (!KNOWN_RULES.has(ruleId)) {
    throw new Error(`suppressPolicy(${where}, ${ruleId}): unknown rule id; known rules: ${[...KNOWN_RULES].join(', ')}`);
  }
  const trimmed = typeof reason === 'string' ? reason.trim() : '';
  if (trimmed.length < MIN_REASON_LENGTH) {
    throw new Error(
      `suppressPolicy(${where}, ${ruleId}): a suppression needs a written reason of at least ${MIN_REASON_LENGTH} characters saying why the rule does not apply (got ${JSON.stringify(reason ?? null)})`,
    );
  }
  if (suppressionsOf(resource).some((existing) => existing.ruleId === ruleId)) {
    throw new Error(`suppressPolicy(${where}, ${ruleId}): the rule is already suppressed on this resource`);
  }
  resource.node.addMetadata(SUPPRESSION_METADATA, { ruleId, reason: trimmed } satisfies Suppression);
}

/** The suppressions declared on one construct. */
export function suppressionsOf(construct: IConstruct): Suppression[] {
  return construct.node.metadata.filter((entry) => entry.type === SUPPRESSION_METADATA).map((entry) => entry.data as Suppression);
}
