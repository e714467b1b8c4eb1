import { block, blocks, isTrue, literalNumber, strings, type Element, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

const WORLD = ['0.0.0.0/0', '::/0'];
const WEB_PORTS = [80, 443];
const SSH_PORT = 22;

/** One ingress permission, whichever of the three Terraform shapes declared it. */
interface Ingress {
  /** The element to blame (the rule resource, or the group for inline rules). */
  readonly element: Element;
  /** The security groups it opens (resolved in this stack). */
  readonly groups: readonly Element[];
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  /** `-1`/`all` opens every protocol and port. */
  readonly protocol: string;
  readonly cidrs: readonly string[];
  /** Source security groups, as written (references or ids). */
  readonly sourceGroups: readonly string[];
  readonly self: boolean;
  readonly prefixLists: readonly string[];
}

function ingresses(model: StackModel): Ingress[] {
  const found: Ingress[] = [];
  for (const group of model.resources('aws_security_group')) {
    for (const rule of blocks(group.config['ingress'])) {
      found.push({
        element: group,
        groups: [group],
        fromPort: literalNumber(rule['from_port']),
        toPort: literalNumber(rule['to_port']),
        protocol: String(rule['protocol'] ?? ''),
        cidrs: [...strings(rule['cidr_blocks']), ...strings(rule['ipv6_cidr_blocks'])],
        sourceGroups: strings(rule['security_groups']),
        self: isTrue(rule['self']),
        prefixLists: strings(rule['prefix_list_ids']),
      });
    }
  }
  for (const rule of model.resources('aws_security_group_rule')) {
    if (rule.config['type'] !== 'ingress') continue;
    found.push({
      element: rule,
      groups: model.referencedElements(rule.config['security_group_id'], 'aws_security_group'),
      fromPort: literalNumber(rule.config['from_port']),
      toPort: literalNumber(rule.config['to_port']),
      protocol: String(rule.config['protocol'] ?? ''),
      cidrs: [...strings(rule.config['cidr_blocks']), ...strings(rule.config['ipv6_cidr_blocks'])],
      sourceGroups: strings(rule.config['source_security_group_id']),
      self: isTrue(rule.config['self']),
      prefixLists: strings(rule.config['prefix_list_ids']),
    });
  }
  for (const rule of model.resources('aws_vpc_security_group_ingress_rule')) {
    found.push({
      element: rule,
      groups: model.referencedElements(rule.config['security_group_id'], 'aws_security_group'),
      fromPort: literalNumber(rule.config['from_port']),
      toPort: literalNumber(rule.config['to_port']),
      protocol: String(rule.config['ip_protocol'] ?? ''),
      cidrs: [...strings(rule.config['cidr_ipv4']), ...strings(rule.config['cidr_ipv6'])],
      sourceGroups: strings(rule.config['referenced_security_group_id']),
      self: false,
      prefixLists: strings(rule.config['prefix_list_id']),
    });
  }
  return found;
}

const allTraffic = (ingress: Ingress): boolean => ['-1', 'all'].includes(ingress.protocol);

/** The single port an ingress opens, or undefined for a range or all traffic. */
function singlePort(ingress: Ingress): number | undefined {
  if (allTraffic(ingress) || ingress.fromPort === undefined || ingress.fromPort !== ingress.toPort) return undefined;
  return ingress.fromPort;
}

const describePorts = (ingress: Ingress): string =>
  allTraffic(ingress) ? 'all traffic' : `${ingress.protocol} ${ingress.fromPort ?? '?'}-${ingress.toPort ?? '?'}`;

/** Security groups attached to a load balancer in this stack. */
function loadBalancerGroups(model: StackModel): Set<Element> {
  const lbs = [...model.resources('aws_lb'), ...model.resources('aws_alb')];
  return new Set(lbs.flatMap((lb) => model.referencedElements(lb.config['security_groups'], 'aws_security_group')));
}

/** Security groups attached to EC2 instances (launch templates and instances). */
function instanceGroups(model: StackModel): Set<Element> {
  const sources: unknown[] = [];
  for (const template of model.resources('aws_launch_template')) {
    sources.push(template.config['vpc_security_group_ids'], template.config['security_group_names']);
    for (const nic of blocks(template.config['network_interfaces'])) sources.push(nic['security_groups']);
  }
  for (const instance of model.resources('aws_instance')) sources.push(instance.config['vpc_security_group_ids'], instance.config['security_groups']);
  return new Set(sources.flatMap((source) => model.referencedElements(source, 'aws_security_group')));
}

export const noWorldIngress = rule({
  id: 'NET-001',
  category: 'network',
  title: 'No ingress from 0.0.0.0/0 or ::/0, except to a load balancer\'s security group on TCP 80 or 443',
  fix: 'Open the port to the load balancer\'s security group (or a specific CIDR), never to the world.',
  equivalents: {
    checkov: [
      { id: 'CKV_AWS_24', scope: 'port 22' },
      { id: 'CKV_AWS_25', scope: 'port 3389' },
      { id: 'CKV_AWS_260', scope: 'port 80' },
      { id: 'CKV_AWS_277', scope: 'all ports' },
    ],
    trivy: [{ id: 'AVD-AWS-0107', scope: 'SSH and RDP in current versions' }],
    note: "Allows the load balancer's own 80/443, which CKV_AWS_260 flags.",
  },
  check(model) {
    const lbGroups = loadBalancerGroups(model);
    return ingresses(model).flatMap((ingress) => {
      const world = ingress.cidrs.filter((cidr) => WORLD.includes(cidr));
      if (world.length === 0) return [];
      const port = singlePort(ingress);
      const toLoadBalancer = ingress.groups.length > 0 && ingress.groups.every((group) => lbGroups.has(group));
      const webPort = port !== undefined && WEB_PORTS.includes(port) && ['tcp', '6'].includes(ingress.protocol);
      if (toLoadBalancer && webPort) return [];
      const target = ingress.groups.map((group) => group.address).join(', ') || 'an unknown group';
      return [finding(ingress.element, `ingress ${describePorts(ingress)} from ${world.join(', ')} to ${target}`)];
    });
  },
});

export const instancesBehindLoadBalancer = rule({
  id: 'NET-002',
  category: 'network',
  title: 'Instances are reachable only from the load balancer\'s security group (plus SSH from a configured CIDR)',
  fix: 'Allow ingress to the instance security group only from the load balancer\'s security group (`sourceSecurityGroupId` / `referencedSecurityGroupId`).',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const lbGroups = loadBalancerGroups(model);
    const instances = instanceGroups(model);
    const findings: Finding[] = [];
    for (const group of instances) {
      if (lbGroups.has(group)) findings.push(finding(group, 'the same security group is attached to the instances and to the load balancer'));
    }
    for (const ingress of ingresses(model)) {
      const opened = ingress.groups.filter((group) => instances.has(group));
      if (opened.length === 0) continue;
      const fromLoadBalancer =
        ingress.sourceGroups.length > 0 &&
        ingress.sourceGroups.every((source) => model.referencedElements(source, 'aws_security_group').some((g) => lbGroups.has(g)));
      const ssh = singlePort(ingress) === SSH_PORT && ingress.sourceGroups.length === 0 && ingress.cidrs.length > 0 && !ingress.cidrs.some((c) => WORLD.includes(c));
      const extraSources = ingress.self || ingress.prefixLists.length > 0 || (fromLoadBalancer && ingress.cidrs.length > 0);
      if ((fromLoadBalancer || ssh) && !extraSources) continue;
      const sources = [...ingress.cidrs, ...ingress.sourceGroups, ...ingress.prefixLists, ...(ingress.self ? ['self'] : [])];
      findings.push(finding(ingress.element, `instance security group ${opened.map((g) => g.address).join(', ')} admits ${describePorts(ingress)} from ${sources.join(', ') || 'nothing known'}, not only the load balancer`));
    }
    return findings;
  },
});

export const imdsV2 = rule({
  id: 'NET-003',
  category: 'network',
  title: 'Instances require IMDSv2 (`http_tokens = "required"`) with a response hop limit of 1, so containers cannot reach the instance role',
  fix: 'Set `metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }` (tasks get their credentials from their task role, not from the instance).',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_79' }, { id: 'CKV_AWS_341', scope: 'hop limit' }],
    trivy: [
      { id: 'AVD-AWS-0028', scope: 'instances' },
      { id: 'AVD-AWS-0130', scope: 'launch configurations and templates' },
    ],
  },
  check: (model) =>
    [...model.resources('aws_launch_template'), ...model.resources('aws_instance')].flatMap((element) => {
      const options = block(element.config['metadata_options']);
      if (options['http_endpoint'] === 'disabled') return [];
      const findings = [];
      if (options['http_tokens'] !== 'required') {
        findings.push(finding(element, `metadata_options.http_tokens is ${JSON.stringify(options['http_tokens'] ?? null)}, so IMDSv1 stays open`));
      }
      if (literalNumber(options['http_put_response_hop_limit']) !== 1) {
        findings.push(finding(element, `metadata_options.http_put_response_hop_limit is ${JSON.stringify(options['http_put_response_hop_limit'] ?? null)}, not 1 (unset takes the AMI's default, 2 on Amazon Linux 2023)`));
      }
      return findings;
    }),
});

export const noLaunchConfiguration = rule({
  id: 'NET-004',
  category: 'network',
  title: 'No EC2 launch configurations (deprecated, not creatable in new accounts): launch templates only',
  fix: 'Use an `aws_launch_template` and reference it from the Auto Scaling group\'s `launchTemplate`.',
  equivalents: { checkov: [{ id: 'CKV_AWS_315' }], trivy: [] },
  check: (model) => [
    ...model.resources('aws_launch_configuration').map((element) => finding(element, 'is a launch configuration')),
    ...model.resources('aws_autoscaling_group')
      .filter((group) => group.config['launch_configuration'] !== undefined)
      .map((group) => finding(group, 'uses launch_configuration instead of launch_template')),
  ],
});

export const noClassicLoadBalancer = rule({
  id: 'NET-005',
  category: 'network',
  title: 'No Classic Load Balancers: application (or network) load balancers only',
  fix: 'Use `aws_lb` with `loadBalancerType: "application"`, a target group and a listener.',
  equivalents: NO_EQUIVALENT,
  check: (model) => model.resources('aws_elb').map((element) => finding(element, 'is a Classic Load Balancer')),
});

/** True when the ingress admits `port` over TCP. */
function admitsPort(ingress: Ingress, port: number): boolean {
  if (allTraffic(ingress)) return true;
  return ['tcp', '6'].includes(ingress.protocol) && ingress.fromPort !== undefined && ingress.toPort !== undefined && ingress.fromPort <= port && port <= ingress.toPort;
}

const AUTHENTICATE = ['authenticate-cognito', 'authenticate-oidc'];

/** True when the actions forward to targets and none signs the user in first. */
function forwardsUnauthenticated(actions: unknown): boolean {
  const list = blocks(actions);
  const forwards = list.some((action) => action['type'] === 'forward' || action['forward'] !== undefined);
  return forwards && !list.some((action) => AUTHENTICATE.includes(String(action['type'])));
}

export const noOpenUnauthenticatedListener = rule({
  id: 'NET-006',
  category: 'network',
  title: 'No load balancer listener that the whole internet can reach forwards to targets without signing users in first (authenticate-cognito or authenticate-oidc before forward)',
  fix: 'Open the listener\'s port only to known networks, or put an authenticate-cognito / authenticate-oidc action before the forward (HTTPS listeners only).',
  equivalents: {
    ...NO_EQUIVALENT,
    note: 'Closest: checkov CKV_AWS_2 and CKV2_AWS_20 ask for HTTPS, not for who may reach the app.',
  },
  check(model) {
    const findings: Finding[] = [];
    const worldIngress = ingresses(model).filter((ingress) => ingress.cidrs.some((cidr) => WORLD.includes(cidr)));
    const listeners = [...model.resources('aws_lb_listener'), ...model.resources('aws_alb_listener')];
    for (const listener of listeners) {
      const balancers = [...model.referencedElements(listener.config['load_balancer_arn'], 'aws_lb'), ...model.referencedElements(listener.config['load_balancer_arn'], 'aws_alb')];
      const groups = new Set(balancers.filter((balancer) => balancer.config['internal'] !== true).flatMap((balancer) => model.referencedElements(balancer.config['security_groups'], 'aws_security_group')));
      const port = literalNumber(listener.config['port']);
      const open = port !== undefined && worldIngress.some((ingress) => ingress.groups.some((group) => groups.has(group)) && admitsPort(ingress, port));
      if (!open) continue;
      if (forwardsUnauthenticated(listener.config['default_action'])) {
        findings.push(finding(listener, `port ${port} is open to the internet and the default action forwards without sign-in`));
      }
      for (const listenerRule of [...model.resources('aws_lb_listener_rule'), ...model.resources('aws_alb_listener_rule')]) {
        if (model.refersTo(listenerRule.config['listener_arn'], listener) && forwardsUnauthenticated(listenerRule.config['action'])) {
          findings.push(finding(listenerRule, `a rule of the listener on port ${port}, open to the internet, forwards without sign-in`));
        }
      }
    }
    return findings;
  },
});

export const NETWORK_RULES = [noWorldIngress, instancesBehindLoadBalancer, imdsV2, noLaunchConfiguration, noClassicLoadBalancer, noOpenUnauthenticatedListener] as const;
