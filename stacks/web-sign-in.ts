import { Construct } from 'constructs';
import { CognitoUser } from '@cdktf/provider-aws/lib/cognito-user';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { CognitoUserPoolDomain } from '@cdktf/provider-aws/lib/cognito-user-pool-domain';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import type { LbListenerDefaultAction } from '@cdktf/provider-aws/lib/lb-listener';

/** Sign-in through a user pool this construct creates; each address gets an email invitation with a temporary password. */
export interface CognitoSignInMethod {
  readonly kind: 'cognito';
  readonly users: readonly string[];
  /** Prefix of the pool's sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region. @default `<name>-<account id>` */
  readonly domainPrefix?: string;
}

/** Sign-in through an existing OpenID Connect provider (the client is registered there, with the callback `https://<domain>/oauth2/idpresponse`). */
export interface OidcSignInMethod {
  readonly kind: 'oidc';
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly userInfoEndpoint: string;
  readonly clientId: string;
  /** SSM SecureString parameter holding the client secret (it reaches the listener through the Terraform state, never the configuration). */
  readonly clientSecretParameter: string;
}

export type SignInMethod = CognitoSignInMethod | OidcSignInMethod;

export interface WebSignInProps {
  /** Pool and client names start with it. */
  readonly name: string;
  /** The host name users open; the identity provider sends them back to it. */
  readonly domainName: string;
  readonly accountId: string;
  readonly method: SignInMethod;
}

/** Where the load balancer receives the identity provider's answer. */
export const SIGN_IN_CALLBACK_PATH = '/oauth2/idpresponse';

/**
 * Sign-in at the load balancer: the HTTPS listener runs `action` before forwarding, so no
 * request reaches the web app without a signed-in user. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html
 */
export class WebSignIn extends Construct {
  /** The authenticate action, first in the listener's default actions. */
  public readonly action: LbListenerDefaultAction;
  /** The user pool, when the construct created one. */
  public readonly userPoolId?: string;

  constructor(scope: Construct, id: string, props: WebSignInProps) {
    super(scope, id);
    if (props.method.kind === 'oidc') {
      const oidc = props.method;
      const secret = new DataAwsSsmParameter(this, 'client-secret', { name: oidc.clientSecretParameter, withDecryption: true });
      this.action = {
        type: 'authenticate-oidc',
        order: 1,
        authenticateOidc: {
          issuer: oidc.issuer,
          authorizationEndpoint: oidc.authorizationEndpoint,
          tokenEndpoint: oidc.tokenEndpoint,
          userInfoEndpoint: oidc.userInfoEndpoint,
          clientId: oidc.clientId,
          clientSecret: secret.value,
          scope: 'openid email',
        },
      };
      return;
    }

    const pool = new CognitoUserPool(this, 'user-pool', {
      name: `${props.name}-users`,
      usernameAttributes: ['email'],
      autoVerifiedAttributes: ['email'],
      // Only administrators (this stack) create users: nobody signs up on their own.
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: false, temporaryPasswordValidityDays: 7 },
      mfaConfiguration: 'OPTIONAL',
      softwareTokenMfaConfiguration: { enabled: true },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
      deletionProtection: 'ACTIVE',
    });
    const domain = new CognitoUserPoolDomain(this, 'domain', {
      domain: props.method.domainPrefix ?? `${props.name}-${props.accountId}`,
      userPoolId: pool.id,
    });
    const client = new CognitoUserPoolClient(this, 'client', {
      name: `${props.name}-load-balancer`,
      userPoolId: pool.id,
      // The load balancer is a confidential client using the authorization code flow.
      generateSecret: true,
      allowedOauthFlowsUserPoolClient: true,
      allowedOauthFlows: ['code'],
      allowedOauthScopes: ['openid', 'email'],
      callbackUrls: [`https://${props.domainName}${SIGN_IN_CALLBACK_PATH}`],
      supportedIdentityProviders: ['COGNITO'],
      preventUserExistenceErrors: 'ENABLED',
    });
    for (const email of props.method.users) {
      // Named after the address, so removing one user leaves the others alone.
      new CognitoUser(this, `user-${email.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, {
        userPoolId: pool.id,
        username: email,
        attributes: { email, email_verified: 'true' },
        desiredDeliveryMediums: ['EMAIL'],
      });
    }
    this.action = {
      type: 'authenticate-cognito',
      order: 1,
      authenticateCognito: { userPoolArn: pool.arn, userPoolClientId: client.id, userPoolDomain: domain.domain, scope: 'openid email' },
    };
    this.userPoolId = pool.id;
  }
}

