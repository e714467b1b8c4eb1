import { ALARM_RULES } from './alarms';
import { API_RULES } from './api';
import { CONTAINER_RULES } from './containers';
import { DATA_RULES } from './data';
import { ENCRYPTION_RULES } from './encryption';
import { EVENT_SOURCE_RULES } from './event-sources';
import { IAM_RULES } from './iam';
import { LOGGING_RULES } from './logging';
import { NETWORK_RULES } from './network';
import { PREVENT_DESTROY_RULES } from './prevent-destroy';

/** Every rule of the platform policy, in the order the report lists them. */
export const PLATFORM_RULES = [
  ...IAM_RULES,
  ...ENCRYPTION_RULES,
  ...LOGGING_RULES,
  ...API_RULES,
  ...EVENT_SOURCE_RULES,
  ...NETWORK_RULES,
  ...DATA_RULES,
  ...PREVENT_DESTROY_RULES,
  ...CONTAINER_RULES,
  ...ALARM_RULES,
] as const;

/** The id of a rule that can be suppressed. */
export type RuleId = (typeof PLATFORM_RULES)[number]['id'];

export { NO_EQUIVALENT } from './rule';
export type { CheckerRule, CheckovId, Equivalents, Finding, Rule, RuleCategory, RuleDescription, TrivyId } from './rule';
