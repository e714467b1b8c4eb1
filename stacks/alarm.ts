import type { Construct } from 'constructs';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { ITERATOR_AGE_ALARM_MS } from './construct-defaults';

export type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'okActions'> & { readonly alarmName: string };

/**
 * An alarm beside the resource it watches, notifying `actions` (the operations topic) when it
 * fires and when it recovers. A period without data counts as fine unless the spec says
 * otherwise (most of these metrics are only published when something happens).
 */
export function notifyingAlarm(scope: Construct, id: string, spec: AlarmSpec, actions: readonly string[]): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, { treatMissingData: 'notBreaching', ...spec, alarmActions: [...actions], okActions: [...actions] });
}

/** Every alarm looks at 5-minute sums unless it says otherwise. */
export const FIVE_MINUTES = 300;

/** Fires on one event or more in five minutes. */
export const AT_LEAST_ONCE = { statistic: 'Sum', period: FIVE_MINUTES, evaluationPeriods: 1, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' } as const;

/** Readers falling behind: the oldest unread record older than ITERATOR_AGE_ALARM_MS in 3 minutes out of 5. */
export const FALLING_BEHIND = {
  statistic: 'Maximum',
  period: 60,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: ITERATOR_AGE_ALARM_MS,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
} as const;
