import type { TerraformStack } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { Elb } from '@cdktf/provider-aws/lib/elb';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { LaunchConfiguration } from '@cdktf/provider-aws/lib/launch-configuration';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { check, expectClean, expectViolations } from '../harness';

/** A load balancer and instances, each with its own security group and no rules yet. */
function web(stack: TerraformStack) {
  const lbGroup = new SecurityGroup(stack, 'lb-sg', { name: 'lb', vpcId: 'vpc-1' });
  const instanceGroup = new SecurityGroup(stack, 'instance-sg', { name: 'instances', vpcId: 'vpc-1' });
  new Lb(stack, 'lb', { name: 'web', loadBalancerType: 'application', securityGroups: [lbGroup.id], subnets: ['subnet-a', 'subnet-b'] });
  new LaunchTemplate(stack, 'lt', {
    name: 'web',
    vpcSecurityGroupIds: [instanceGroup.id],
    metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { encrypted: 'true' } }],
  });
  return { lbGroup, instanceGroup };
}

const fromWorld = (stack: TerraformStack, id: string, groupId: string, port: number, cidr = '0.0.0.0/0') =>
  new VpcSecurityGroupIngressRule(stack, id, { securityGroupId: groupId, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: cidr.includes(':') ? undefined : cidr, cidrIpv6: cidr.includes(':') ? cidr : undefined });

describe('NET-001 no ingress from the world', () => {
  it('fires on SSH and port ranges from 0.0.0.0/0 or ::/0, on all traffic, and on 80 to a group that is not a load balancer\'s', () => {
    const report = check((stack) => {
      const { lbGroup, instanceGroup } = web(stack);
      fromWorld(stack, 'ssh', instanceGroup.id, 22);
      fromWorld(stack, 'http-v6-to-instances', instanceGroup.id, 80, '::/0');
      new VpcSecurityGroupIngressRule(stack, 'range', { securityGroupId: lbGroup.id, ipProtocol: 'tcp', fromPort: 80, toPort: 443, cidrIpv4: '0.0.0.0/0' });
      new SecurityGroupRule(stack, 'all', { type: 'ingress', securityGroupId: lbGroup.id, protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] });
      new SecurityGroup(stack, 'inline', { name: 'inline', ingress: [{ fromPort: 5000, toPort: 5000, protocol: 'tcp', cidrBlocks: ['10.0.0.0/8', '0.0.0.0/0'] }] });
    });
    const found = expectViolations(report, 'NET-001', [
      'aws_vpc_security_group_ingress_rule.ssh',
      'aws_vpc_security_group_ingress_rule.http-v6-to-instances',
      'aws_vpc_security_group_ingress_rule.range',
      'aws_security_group_rule.all',
      'aws_security_group.inline',
    ]);
    expect(found.find((v) => v.address.endsWith('.ssh'))?.problem).toBe('ingress tcp 22-22 from 0.0.0.0/0 to aws_security_group.instance-sg');
  });

  it('stays silent on 80 and 443 from the world to the load balancer, and on private CIDRs', () => {
    const report = check((stack) => {
      const { lbGroup } = web(stack);
      fromWorld(stack, 'http', lbGroup.id, 80);
      fromWorld(stack, 'https', lbGroup.id, 443);
      fromWorld(stack, 'https-v6', lbGroup.id, 443, '::/0');
      new SecurityGroup(stack, 'internal', { name: 'internal', ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['10.0.0.0/16'] }] });
    });
    expectClean(report, 'NET-001');
  });
});

describe('NET-002 instances only reachable from the load balancer', () => {
  it('fires on instance ingress from CIDRs, other groups or self, and on a group shared with the load balancer', () => {
    const report = check((stack) => {
      const { instanceGroup } = web(stack);
      const other = new SecurityGroup(stack, 'other-sg', { name: 'other', vpcId: 'vpc-1' });
      new VpcSecurityGroupIngressRule(stack, 'from-vpc', { securityGroupId: instanceGroup.id, ipProtocol: 'tcp', fromPort: 32768, toPort: 65535, cidrIpv4: '10.0.0.0/16' });
      new SecurityGroupRule(stack, 'from-other', { type: 'ingress', securityGroupId: instanceGroup.id, protocol: 'tcp', fromPort: 5000, toPort: 5000, sourceSecurityGroupId: other.id });
      new SecurityGroupRule(stack, 'from-self', { type: 'ingress', securityGroupId: instanceGroup.id, protocol: '-1', fromPort: 0, toPort: 0, selfAttribute: true });
      const shared = new SecurityGroup(stack, 'shared-sg', { name: 'shared', vpcId: 'vpc-1' });
      new Lb(stack, 'internal-lb', { name: 'internal', securityGroups: [shared.id], subnets: ['subnet-a', 'subnet-b'] });
      new Instance(stack, 'bastion', { ami: 'ami-1', instanceType: 't3.micro', vpcSecurityGroupIds: [shared.id] });
    });
    const found = expectViolations(report, 'NET-002', [
      'aws_vpc_security_group_ingress_rule.from-vpc',
      'aws_security_group_rule.from-other',
      'aws_security_group_rule.from-self',
      'aws_security_group.shared-sg',
    ]);
    expect(found.find((v) => v.address.endsWith('.from-self'))?.problem).toBe(
      'instance security group aws_security_group.instance-sg admits all traffic from self, not only the load balancer',
    );
  });

  it('stays silent on the dynamic port range from the load balancer and SSH from a configured CIDR', () => {
    const report = check((stack) => {
      const { lbGroup, instanceGroup } = web(stack);
      new VpcSecurityGroupIngressRule(stack, 'from-lb', { securityGroupId: instanceGroup.id, ipProtocol: 'tcp', fromPort: 32768, toPort: 65535, referencedSecurityGroupId: lbGroup.id });
      new VpcSecurityGroupIngressRule(stack, 'ssh', { securityGroupId: instanceGroup.id, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '203.0.113.7/32' });
    });
    expectClean(report, 'NET-002');
  });
});

describe('NET-003 IMDSv2 required, hop limit 1', () => {
  it('fires on launch templates and instances that leave IMDSv1 open or let containers reach the metadata service', () => {
    const report = check((stack) => {
      new LaunchTemplate(stack, 'optional', { name: 'a', metadataOptions: { httpTokens: 'optional', httpPutResponseHopLimit: 1 } });
      new LaunchTemplate(stack, 'default', { name: 'b' });
      new LaunchTemplate(stack, 'two-hops', { name: 'c', metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 } });
      new Instance(stack, 'instance', { ami: 'ami-1', instanceType: 't3.micro', metadataOptions: { httpPutResponseHopLimit: 1 } });
    });
    const found = expectViolations(report, 'NET-003', [
      'aws_launch_template.optional',
      'aws_launch_template.default',
      'aws_launch_template.default',
      'aws_launch_template.two-hops',
      'aws_instance.instance',
    ]);
    expect(found.filter((v) => /IMDSv1 stays open/.test(v.problem)).map((v) => v.address).sort()).toEqual(['aws_instance.instance', 'aws_launch_template.default', 'aws_launch_template.optional']);
    expect(found.find((v) => v.address.endsWith('two-hops'))?.problem).toBe('metadata_options.http_put_response_hop_limit is 2, not 1 (unset takes the AMI\'s default, 2 on Amazon Linux 2023)');
  });

  it('stays silent when tokens are required with one hop, or the endpoint is off', () => {
    const report = check((stack) => {
      new LaunchTemplate(stack, 'required', { name: 'a', metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 } });
      new Instance(stack, 'no-imds', { ami: 'ami-1', instanceType: 't3.micro', metadataOptions: { httpEndpoint: 'disabled' } });
    });
    expectClean(report, 'NET-003');
  });
});

describe('NET-004 no launch configurations', () => {
  it('fires on a launch configuration and the group using it', () => {
    const report = check((stack) => {
      const config = new LaunchConfiguration(stack, 'config', { imageId: 'ami-1', instanceType: 't3.micro' });
      new AutoscalingGroup(stack, 'asg', { minSize: 1, maxSize: 5, launchConfiguration: config.name, vpcZoneIdentifier: ['subnet-a'] });
    });
    expectViolations(report, 'NET-004', ['aws_launch_configuration.config', 'aws_autoscaling_group.asg']);
  });

  it('stays silent on a group with a launch template', () => {
    const report = check((stack) => {
      const template = new LaunchTemplate(stack, 'lt', { name: 'web' });
      new AutoscalingGroup(stack, 'asg', { minSize: 1, maxSize: 5, launchTemplate: { id: template.id, version: '$Latest' }, vpcZoneIdentifier: ['subnet-a'] });
    });
    expectClean(report, 'NET-004');
  });
});

describe('NET-005 no classic load balancer', () => {
  it('fires on aws_elb', () => {
    const report = check((stack) => new Elb(stack, 'classic', { listener: [{ instancePort: 80, instanceProtocol: 'http', lbPort: 80, lbProtocol: 'http' }], availabilityZones: ['eu-west-2a'] }));
    expectViolations(report, 'NET-005', ['aws_elb.classic']);
  });

  it('stays silent on an application load balancer', () => {
    expectClean(check((stack) => new Lb(stack, 'alb', { name: 'web', loadBalancerType: 'application', subnets: ['subnet-a'] })), 'NET-005');
  });
});

describe('NET-006 no listener open to the internet forwards without sign-in', () => {
  const forward = [{ type: 'forward', targetGroupArn: 'arn:tg' }];
  const cognito = { type: 'authenticate-cognito', order: 1, authenticateCognito: { userPoolArn: 'arn:pool', userPoolClientId: 'client', userPoolDomain: 'auth' } };

  it('fires on a world-open listener, or listener rule, that forwards with no authenticate action first', () => {
    const report = check((stack) => {
      const { lbGroup } = web(stack);
      const lb = stack.node.findChild('lb') as Lb;
      fromWorld(stack, 'http', lbGroup.id, 80);
      new VpcSecurityGroupIngressRule(stack, 'all-v6', { securityGroupId: lbGroup.id, ipProtocol: '-1', cidrIpv6: '::/0' });
      new LbListener(stack, 'plain', { loadBalancerArn: lb.arn, port: 80, protocol: 'HTTP', defaultAction: forward });
      const signedIn = new LbListener(stack, 'https', { loadBalancerArn: lb.arn, port: 443, protocol: 'HTTPS', certificateArn: 'arn:cert', defaultAction: [cognito, { ...forward[0]!, order: 2 }] });
      new LbListenerRule(stack, 'bypass', { listenerArn: signedIn.arn, action: [{ type: 'forward', targetGroupArn: 'arn:tg' }], condition: [{ pathPattern: { values: ['/api/*'] } }] });
    });
    const found = expectViolations(report, 'NET-006', ['aws_lb_listener.plain', 'aws_lb_listener_rule.bypass']);
    expect(found.find((v) => v.address === 'aws_lb_listener.plain')?.problem).toBe('port 80 is open to the internet and the default action forwards without sign-in');
  });

  it('stays silent on sign-in before forwarding, on listeners only allowed networks reach, on redirects, and on internal load balancers', () => {
    const report = check((stack) => {
      const { lbGroup } = web(stack);
      const lb = stack.node.findChild('lb') as Lb;
      fromWorld(stack, 'http', lbGroup.id, 80);
      fromWorld(stack, 'https', lbGroup.id, 443);
      fromWorld(stack, 'office', lbGroup.id, 8080, '203.0.113.0/24');
      new LbListener(stack, 'redirect', { loadBalancerArn: lb.arn, port: 80, protocol: 'HTTP', defaultAction: [{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', statusCode: 'HTTP_301' } }] });
      new LbListener(stack, 'signed-in', { loadBalancerArn: lb.arn, port: 443, protocol: 'HTTPS', certificateArn: 'arn:cert', defaultAction: [cognito, { ...forward[0]!, order: 2 }] });
      new LbListener(stack, 'office-only', { loadBalancerArn: lb.arn, port: 8080, protocol: 'HTTP', defaultAction: forward });
      const internalGroup = new SecurityGroup(stack, 'internal-sg', { name: 'internal', vpcId: 'vpc-1' });
      const internal = new Lb(stack, 'internal-lb', { name: 'internal', internal: true, securityGroups: [internalGroup.id], subnets: ['subnet-a', 'subnet-b'] });
      fromWorld(stack, 'internal-http', internalGroup.id, 80);
      new LbListener(stack, 'internal-listener', { loadBalancerArn: internal.arn, port: 80, protocol: 'HTTP', defaultAction: forward });
    });
    expectClean(report, 'NET-006');
  });
});
