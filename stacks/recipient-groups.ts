import { Construct } from 'constructs';
import { AlertTopic } from './alert-topic';
import { MAX_RECIPIENT_GROUPS } from './construct-defaults';
import { PropsCheck } from './input-error';

export interface RecipientGroup {
  readonly emails: readonly string[];
  readonly sms: readonly string[];
  readonly webhooks: readonly string[];
}

export interface RecipientGroupsProps {
  /** Each group's topic is `<topicNamePrefix>-<group>`. */
  readonly topicNamePrefix: string;
  readonly kmsKeyArn: string;
  /** By group name (a rule's `--recipients`). @default none */
  readonly groups?: Readonly<Record<string, RecipientGroup>>;
}

/**
 * The recipient groups rules can name: an alert topic each (AlertTopic), so a plant's
 * alerts reach its own people. The default group, for rules that name none, is the
 * platform's alert topic, created beside this construct.
 */
export class RecipientGroups extends Construct {
  /** Topic ARN by group name, for the functions that publish alerts. */
  public readonly topicArns: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: RecipientGroupsProps) {
    super(scope, id);
    const groups = Object.entries(props.groups ?? {});
    const check = new PropsCheck('RecipientGroups');
    if (groups.length > MAX_RECIPIENT_GROUPS) check.fail('groups', `at most ${MAX_RECIPIENT_GROUPS} groups (the consumers get every topic ARN in one environment variable), got ${groups.length}`);
    check.done();
    const arns: Record<string, string> = {};
    for (const [name, group] of groups) {
      arns[name] = new AlertTopic(this, name, { name: `${props.topicNamePrefix}-${name}`, displayName: `IoT alerts (${name})`, kmsKeyArn: props.kmsKeyArn, ...group }).arn;
    }
    this.topicArns = arns;
  }
}
