/** How the web settings of the configuration become the web constructs' props. */
import type { PlatformConfig } from './config';
import { PropsError } from './input-error';
import { defaultCpuUnits, instanceSize } from './construct-defaults';
import type { SignInMethod } from './web-sign-in';

/** CPU units per web task: the configured ones, or the instance's CPU in the proportion the task takes of its memory. */
export function webCpuUnits(config: PlatformConfig): number {
  if (config.web.cpuUnits !== undefined) return config.web.cpuUnits;
  const instance = instanceSize(config.cluster.instanceType);
  if (instance === undefined) {
    // The configuration refuses an unknown type without web.cpuUnits; this is for configurations built by hand.
    throw new PropsError('WebService', [{ field: 'cpuUnits', message: `${config.cluster.instanceType} is not in the table of instance sizes: give the CPU units explicitly` }]);
  }
  return defaultCpuUnits(instance, config.web.memoryMiB);
}

/** Who signs users in at the load balancer, or undefined for no sign-in. */
export function webSignInMethod(config: PlatformConfig): SignInMethod | undefined {
  const { signIn } = config.web;
  if (signIn.provider === 'none') return undefined;
  if (signIn.provider === 'cognito') return { kind: 'cognito', users: signIn.users, domainPrefix: signIn.domainPrefix };
  const { issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId, clientSecretParameter } = signIn.oidc;
  if (issuer === undefined || authorizationEndpoint === undefined || tokenEndpoint === undefined || userInfoEndpoint === undefined || clientId === undefined || clientSecretParameter === undefined) {
    throw new PropsError('WebSignIn', [{ field: 'oidc', message: 'the oidc provider needs issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId and clientSecretParameter' }]);
  }
  return { kind: 'oidc', issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId, clientSecretParameter };
}

/** Printed at synth when nothing from the internet may reach the web app. */
export const WEB_CLOSED_NOTICE = [
  'The web app is closed: no network may reach its load balancer, because neither web.allowedCidrs nor HTTPS with sign-in is configured.',
  'To open it, either list your networks (PLATFORM_WEB_ALLOWED_CIDRS=203.0.113.0/24), or set network.certificateArn and web.domainName',
  'for HTTPS with sign-in (users in web.signIn.users get an email invitation). See docs/deploy.md, "Web access".',
].join(' ');
