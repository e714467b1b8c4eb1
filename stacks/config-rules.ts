/** The configuration's rules across fields, or beyond what a pattern can say; config.ts runs them after the schema. */
import { DEFAULT_RECIPIENT_GROUP } from '../handlers/contract';
import type { PlatformConfig } from './config';
import { GLACIER_MINIMUM_DAYS, MAX_PROJECTED_YEARS, VPC_PREFIX_LENGTH, ZONE_COUNT, emailSubscriptionId, instanceSize, knownInstanceTypes } from './construct-defaults';

/** Every problem across fields, each blaming one field. */
export function crossFieldProblems(config: PlatformConfig): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const fail = (field: string, message: string) => problems.push({ field, message });
  const { backend, network, cluster, scaling, web, archive, query } = config;
  // The schema leaves these optional because they only matter for one backend.
  if (backend.kind === 's3' && backend.bucket === '') fail('backend.s3.bucket', 'the s3 backend needs a state bucket: set backend.s3.bucket (PLATFORM_BACKEND_S3_BUCKET)');
  if (backend.kind === 'cloud' && backend.organization === '') {
    fail('backend.cloud.organization', 'the cloud backend needs an organisation: set backend.cloud.organization (PLATFORM_BACKEND_CLOUD_ORGANIZATION)');
  }
  if (backend.kind === 'local' && backend.stateDir.split(/[\\/]/).includes('..')) fail('backend.local.stateDir', 'the state folder must stay inside the project: remove ".." from the path');
  // The web capacity provider is named after the prefix, and ECS refuses names starting with these.
  if (/^(aws|ecs|fargate)/.test(config.namePrefix)) fail('namePrefix', 'ECS capacity provider names may not start with "aws", "ecs" or "fargate": choose another prefix');
  sshProblems(network, fail);
  networkProblems(network, fail);
  webAccessProblems(config, fail);
  if (cluster.minInstances > cluster.maxInstances) fail('cluster.minInstances', `must not exceed cluster.maxInstances (${cluster.minInstances} > ${cluster.maxInstances})`);
  const instance = instanceSize(cluster.instanceType);
  if (instance === undefined && web.cpuUnits === undefined) {
    fail('cluster.instanceType', `${cluster.instanceType} is not in the table of instance sizes, so the web task's CPU cannot be derived: set web.cpuUnits (1024 = one vCPU), or use one of ${knownInstanceTypes().join(', ')}`);
  }
  if (instance !== undefined && web.memoryMiB > instance.memoryMiB) {
    fail('web.memoryMiB', `a ${cluster.instanceType} has ${instance.memoryMiB} MiB, so a task of ${web.memoryMiB} MiB never fits and deploys would wait for ever: lower it or choose a larger cluster.instanceType`);
  }
  if (instance !== undefined && web.cpuUnits !== undefined && web.cpuUnits > instance.vcpus * 1024) {
    fail('web.cpuUnits', `a ${cluster.instanceType} has ${instance.vcpus * 1024} CPU units (${instance.vcpus} vCPUs), so a task reserving ${web.cpuUnits} never fits: lower it or choose a larger cluster.instanceType`);
  }
  if (scaling.cpuLowPercent >= scaling.cpuHighPercent) {
    fail('scaling.cpuLowPercent', `must be below scaling.cpuHighPercent (${scaling.cpuLowPercent} >= ${scaling.cpuHighPercent}), or the alarms fight`);
  }
  if (scaling.minTasks > scaling.maxTasks) fail('scaling.minTasks', `must not exceed scaling.maxTasks (${scaling.minTasks} > ${scaling.maxTasks})`);
  else if (web.desiredTasks < scaling.minTasks || web.desiredTasks > scaling.maxTasks) {
    fail('web.desiredTasks', `must lie within scaling.minTasks..scaling.maxTasks (${scaling.minTasks}..${scaling.maxTasks}), got ${web.desiredTasks}`);
  }
  if (archive.expireAfterDays !== undefined && archive.expireAfterDays < archive.glacierAfterDays + GLACIER_MINIMUM_DAYS) {
    const least = archive.glacierAfterDays + GLACIER_MINIMUM_DAYS;
    fail('archive.expireAfterDays', `Glacier keeps (and bills) objects at least ${GLACIER_MINIMUM_DAYS} days: set it to at least glacierAfterDays + ${GLACIER_MINIMUM_DAYS} = ${least}, or unset it`);
  }
  if (query.lastYear < query.firstYear || query.lastYear - query.firstYear >= MAX_PROJECTED_YEARS) {
    fail('query.lastYear', `must be from query.firstYear (${query.firstYear}) to ${query.firstYear + MAX_PROJECTED_YEARS - 1}, got ${query.lastYear}`);
  }
  rollupRetentionProblems(config.rollups, fail);
  for (const [name, group] of Object.entries(config.alerts.recipientGroups)) {
    if (name === DEFAULT_RECIPIENT_GROUP) fail('alerts.recipientGroups', `"${DEFAULT_RECIPIENT_GROUP}" is the group of alerts.emails (rules that name no group): choose another name`);
    if (group.emails.length + group.sms.length + group.webhooks.length === 0) fail('alerts.recipientGroups', `group "${name}" has no subscriber: give it emails, sms or webhooks, or remove it`);
  }
  const groupAddresses = Object.values(config.alerts.recipientGroups).map((group) => ['alerts.recipientGroups', group.emails] as const);
  for (const [field, addresses] of [['alerts.emails', config.alerts.emails], ['operations.emails', config.operations.emails], ['web.signIn.users', web.signIn.users], ...groupAddresses] as const) {
    const seen = new Map<string, string>();
    for (const address of addresses) {
      const earlier = seen.get(emailSubscriptionId(address));
      if (earlier !== undefined) fail(field, `${earlier} and ${address} are the same address to AWS (case and punctuation aside): list it once`);
      seen.set(emailSubscriptionId(address), address);
    }
  }
  return problems;
}

type Fail = (field: string, message: string) => void;

/**
 * An hour never outlives its day: where an hour's item is gone its day holds it
 * (handlers/rollup-plan.ts), so the day must stay.
 */
function rollupRetentionProblems(rollups: PlatformConfig['rollups'], fail: Fail): void {
  const days = (value: number | undefined) => value ?? Number.POSITIVE_INFINITY;
  const shown = (value: number | undefined) => (value === undefined ? 'for ever' : `${value} days`);
  const steps = [
    ['hourRetentionDays', rollups.hourRetentionDays],
    ['dayRetentionDays', rollups.dayRetentionDays],
  ] as const;
  for (let index = 0; index + 1 < steps.length; index++) {
    const [finer, finerDays] = steps[index] as (typeof steps)[number];
    const [coarser, coarserDays] = steps[index + 1] as (typeof steps)[number];
    if (days(finerDays) > days(coarserDays)) {
      fail(`rollups.${finer}`, `must not be longer than rollups.${coarser} (${shown(finerDays)} > ${shown(coarserDays)}): the coarser rollups hold the finer ones once those expire`);
    }
  }
}

function sshProblems(network: PlatformConfig['network'], fail: Fail): void {
  if (network.sshKeyName !== undefined && network.sshCidr === undefined) {
    fail('network.sshCidr', 'an SSH key pair is set without a source CIDR: set network.sshCidr to your network, e.g. 203.0.113.0/24, or unset network.sshKeyName');
  }
  if (network.sshCidr !== undefined && network.sshKeyName === undefined) fail('network.sshKeyName', 'an SSH source CIDR is set without a key pair: set network.sshKeyName, or unset network.sshCidr');
  if (network.sshCidr === undefined) return;
  const cidr = cidrProblem(network.sshCidr);
  if (cidr !== undefined) fail('network.sshCidr', cidr);
  else if (network.sshCidr.endsWith('/0')) fail('network.sshCidr', 'SSH must never be open to the whole internet (/0): use your own network, e.g. 203.0.113.0/24, or Session Manager');
}

function networkProblems(network: PlatformConfig['network'], fail: Fail): void {
  const vpcCidr = cidrProblem(network.vpcCidr);
  if (vpcCidr !== undefined) fail('network.vpcCidr', vpcCidr);
  else {
    const prefix = Number(network.vpcCidr.split('/')[1]);
    if (prefix < VPC_PREFIX_LENGTH.min || prefix > VPC_PREFIX_LENGTH.max) {
      fail('network.vpcCidr', `a VPC prefix must be /${VPC_PREFIX_LENGTH.min} to /${VPC_PREFIX_LENGTH.max} (got /${prefix}) to hold two load balancer subnets, e.g. 10.0.0.0/16`);
    }
  }
  if ((network.vpcId === undefined) !== (network.subnetIds.length === 0)) {
    fail(
      network.vpcId === undefined ? 'network.vpcId' : 'network.subnetIds',
      'an existing VPC needs both network.vpcId and network.subnetIds (at least two subnets in two zones); set both or neither',
    );
  } else if (network.vpcId !== undefined && network.subnetIds.length < ZONE_COUNT) {
    fail('network.subnetIds', 'the load balancer needs at least two subnets in two zones: list two or more subnet ids');
  }
}

/** HTTPS needs a certificate and a name; the app is never served to the whole internet without sign-in. */
function webAccessProblems(config: PlatformConfig, fail: Fail): void {
  const { web, network } = config;
  const https = network.certificateArn !== undefined;
  if (web.domainName !== undefined && !https) fail('web.domainName', 'a domain name needs an HTTPS certificate: set network.certificateArn for it, or unset web.domainName');
  if (https && web.domainName === undefined) {
    fail('web.domainName', 'HTTPS needs the name the certificate covers (sign-in sends users back to it): set web.domainName, or unset network.certificateArn');
  }
  for (const cidr of web.allowedCidrs) {
    const problem = cidrProblem(cidr);
    if (problem !== undefined) fail('web.allowedCidrs', problem);
  }
  const signIn = https ? web.signIn.provider : 'none';
  if (signIn === 'none' && web.allowedCidrs.some((cidr) => cidr.endsWith('/0'))) {
    fail('web.allowedCidrs', 'would serve readings, thresholds and alert history to the whole internet without sign-in: list your own networks, or set network.certificateArn and web.domainName for HTTPS with sign-in');
  }
  if (https && web.signIn.provider === 'none' && web.allowedCidrs.length === 0) {
    fail('web.signIn.provider', 'with no sign-in and no web.allowedCidrs the app would be open to the whole internet: choose cognito or oidc, or list web.allowedCidrs');
  }
  if (web.signIn.provider !== 'cognito' && web.signIn.users.length > 0) fail('web.signIn.users', 'users are invited only to the Cognito user pool: set web.signIn.provider to cognito, or empty the list');
  if (!https && web.signIn.users.length > 0) fail('web.signIn.users', 'sign-in needs HTTPS: set network.certificateArn and web.domainName');
  if (web.signIn.provider === 'oidc') {
    if (!https) fail('web.signIn.provider', 'sign-in needs HTTPS: set network.certificateArn and web.domainName');
    const fields = ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint', 'clientId', 'clientSecretParameter'] as const;
    const missing = fields.filter((key) => web.signIn.oidc[key] === undefined);
    if (missing.length > 0) fail('web.signIn.oidc', `the oidc provider needs ${missing.map((key) => `web.signIn.oidc.${key}`).join(', ')}`);
  }
}

/** Why a CIDR with a valid shape is still wrong: host bits set. */
function cidrProblem(cidr: string): string | undefined {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const value = address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
  const hostBits = 2 ** (32 - prefix);
  if (value % hostBits !== 0) {
    const network = value - (value % hostBits);
    const text = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
    return `${cidr} has host bits set: write the network address, ${text}/${prefix}`;
  }
  return undefined;
}
