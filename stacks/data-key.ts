import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';

export interface DataKeyProps {
  /** The alias, without `alias/`. */
  readonly aliasName: string;
  readonly description: string;
}

/**
 * A customer managed KMS key with yearly rotation. Its key policy is KMS's default (the
 * account administers it), so each role's own policy says exactly which key actions it
 * may use: nobody decrypts the pipeline's data without an explicit grant.
 */
export class DataKey extends Construct {
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    const key = new KmsKey(this, 'key', { description: props.description, enableKeyRotation: true, deletionWindowInDays: 30 });
    new KmsAlias(this, 'alias', { name: `alias/${props.aliasName}`, targetKeyId: key.keyId });
    this.arn = key.arn;
  }
}
