import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Network, NetworkProps } from '../../stacks/network';

interface Synthesized {
  output?: Record<string, { value: unknown }>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
}

function synthNetwork(props: NetworkProps) {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
  const network = new Network(stack, 'network', props);
  // Outputs show what the public members resolve to in the synthesized JSON.
  new TerraformOutput(stack, 'vpc-id', { value: network.vpcId });
  new TerraformOutput(stack, 'subnet-ids', { value: network.publicSubnetIds });
  const json = JSON.parse(Testing.synth(stack)) as Synthesized;
  const resources = (type: string) => Object.values(json.resource?.[type] ?? {});
  return { network, json, resources };
}

describe('Network with a new VPC', () => {
  const { json, resources } = synthNetwork({ namePrefix: 'iot' });

  it('creates a DNS-enabled VPC on the default CIDR', () => {
    expect(resources('aws_vpc')).toEqual([
      expect.objectContaining({ cidr_block: '10.0.0.0/16', enable_dns_support: true, enable_dns_hostnames: true }),
    ]);
  });

  it('places two /24 public subnets in the first two available zones, without auto-assigned public addresses', () => {
    const subnets = resources('aws_subnet');
    expect(subnets).toHaveLength(2);
    const zonesId = Object.keys(json.data?.aws_availability_zones ?? {})[0];
    expect(subnets.map((subnet) => [subnet.cidr_block, subnet.availability_zone, subnet.map_public_ip_on_launch])).toEqual([
      ['${cidrsubnet("10.0.0.0/16", 8, 0)}', `\${element(data.aws_availability_zones.${zonesId}.names, 0)}`, false],
      ['${cidrsubnet("10.0.0.0/16", 8, 1)}', `\${element(data.aws_availability_zones.${zonesId}.names, 1)}`, false],
    ]);
  });

  it('only uses the region’s own available zones', () => {
    expect(Object.values(json.data?.aws_availability_zones ?? {})).toEqual([
      expect.objectContaining({ state: 'available', filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] }),
    ]);
  });

  it('routes both subnets to the internet gateway', () => {
    const [gatewayId] = Object.keys(json.resource?.aws_internet_gateway ?? {});
    const [routeTableId] = Object.keys(json.resource?.aws_route_table ?? {});
    expect(resources('aws_route_table')[0]?.route).toEqual([
      expect.objectContaining({ cidr_block: '0.0.0.0/0', gateway_id: `\${aws_internet_gateway.${gatewayId}.id}` }),
    ]);
    const associations = resources('aws_route_table_association');
    expect(associations).toHaveLength(2);
    for (const association of associations) expect(association.route_table_id).toBe(`\${aws_route_table.${routeTableId}.id}`);
  });

  it('strips every rule from the default security group', () => {
    const [defaultGroup] = resources('aws_default_security_group');
    expect(defaultGroup).toBeDefined();
    expect(defaultGroup?.ingress).toBeUndefined();
    expect(defaultGroup?.egress).toBeUndefined();
  });

  it('exposes the VPC and subnet ids', () => {
    const [vpcId] = Object.keys(json.resource?.aws_vpc ?? {});
    const subnetIds = Object.keys(json.resource?.aws_subnet ?? {});
    expect(json.output?.['vpc-id']?.value).toBe(`\${aws_vpc.${vpcId}.id}`);
    expect(json.output?.['subnet-ids']?.value).toEqual(subnetIds.map((id) => `\${aws_subnet.${id}.id}`));
  });
});

describe('Network CIDR sizing', () => {
  it('cuts /24 subnets from a /20 VPC', () => {
    const { resources } = synthNetwork({ namePrefix: 'iot', vpcCidr: '172.16.0.0/20' });
    expect(resources('aws_subnet').map((subnet) => subnet.cidr_block)).toEqual([
      '${cidrsubnet("172.16.0.0/20", 4, 0)}',
      '${cidrsubnet("172.16.0.0/20", 4, 1)}',
    ]);
  });

  it('halves a VPC smaller than /23', () => {
    const { resources } = synthNetwork({ namePrefix: 'iot', vpcCidr: '10.1.2.0/26' });
    expect(resources('aws_subnet').map((subnet) => subnet.cidr_block)).toEqual([
      '${cidrsubnet("10.1.2.0/26", 1, 0)}',
      '${cidrsubnet("10.1.2.0/26", 1, 1)}',
    ]);
  });
});

// The configuration checks CIDRs and existing subnets (config.test.ts); the construct builds from what it is given.
describe('Network with an existing VPC', () => {
  it('creates nothing and passes the given ids through', () => {
    const { network, json } = synthNetwork({ namePrefix: 'iot', existing: { vpcId: 'vpc-0abc', subnetIds: ['subnet-1', 'subnet-2'] } });
    expect(json.resource ?? {}).toEqual({});
    expect(json.data ?? {}).toEqual({});
    expect(network.vpcId).toBe('vpc-0abc');
    expect(json.output?.['subnet-ids']?.value).toEqual(['subnet-1', 'subnet-2']);
  });
});
