import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';

export interface NetworkProps {
  /** Prefix of every resource name (the `Name` tag here). */
  readonly namePrefix: string;
  /**
   * CIDR block of the VPC this construct creates. Must be omitted when `existingVpcId` is given.
   * @default '10.0.0.0/16'
   */
  readonly vpcCidr?: string;
  /**
   * Use this VPC instead of creating one; requires `existingSubnetIds`.
   * @default a new VPC with two public subnets in two availability zones
   */
  readonly existingVpcId?: string;
  /**
   * At least two subnets of `existingVpcId`, in different zones, with a route to the internet
   * (the load balancer and the instances live in them).
   * @default none (the new VPC's public subnets)
   */
  readonly existingSubnetIds?: readonly string[];
}

const DEFAULT_VPC_CIDR = '10.0.0.0/16';
/** The load balancer needs two zones; the Auto Scaling group spreads over the same two. */
const ZONE_COUNT = 2;
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

interface ResolvedNetworkProps {
  readonly namePrefix: string;
  readonly existing?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
  readonly vpcCidr: string;
}

/**
 * The web tier's network: either a new VPC with an internet gateway and two public
 * subnets in two zones, or an existing VPC and subnets taken as they are.
 */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly publicSubnetIds: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const resolved = resolveNetworkProps(props);

    if (resolved.existing) {
      this.vpcId = resolved.existing.vpcId;
      this.publicSubnetIds = [...resolved.existing.subnetIds];
      return;
    }

    const { namePrefix, vpcCidr } = resolved;
    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      state: 'available',
      // Only the region's own zones: Local and Wavelength zones lack load balancer support.
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });

    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: `${namePrefix}-vpc` },
    });
    // Strip the default security group's rules so nothing can use it by accident.
    new DefaultSecurityGroup(this, 'default-security-group', {
      vpcId: vpc.id,
      tags: { Name: `${namePrefix}-default-deny` },
    });

    const gateway = new InternetGateway(this, 'internet-gateway', {
      vpcId: vpc.id,
      tags: { Name: `${namePrefix}-igw` },
    });
    const routes = new RouteTable(this, 'public-routes', {
      vpcId: vpc.id,
      route: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }],
      tags: { Name: `${namePrefix}-public` },
    });

    const subnetBits = subnetNewBits(vpcCidr);
    this.vpcId = vpc.id;
    this.publicSubnetIds = Array.from({ length: ZONE_COUNT }, (_, index) => {
      const subnet = new Subnet(this, `public-subnet-${index + 1}`, {
        vpcId: vpc.id,
        cidrBlock: Fn.cidrsubnet(vpcCidr, subnetBits, index),
        availabilityZone: Fn.element(zones.names, index),
        // Public addresses are requested by the launch template, not handed out to everything.
        mapPublicIpOnLaunch: false,
        tags: { Name: `${namePrefix}-public-${index + 1}` },
      });
      new RouteTableAssociation(this, `public-subnet-${index + 1}-routes`, {
        subnetId: subnet.id,
        routeTableId: routes.id,
      });
      return subnet.id;
    });
  }
}

/** Applies the defaults and rejects contradictory or malformed props, in one place. */
export function resolveNetworkProps(props: NetworkProps): ResolvedNetworkProps {
  const { namePrefix, existingVpcId, existingSubnetIds } = props;
  if (existingVpcId !== undefined || existingSubnetIds !== undefined) {
    if (existingVpcId === undefined || existingVpcId === '') {
      throw new Error('Network: existingSubnetIds is set but existingVpcId is not; give both (an existing VPC and its subnets) or neither.');
    }
    if (existingSubnetIds === undefined) {
      throw new Error('Network: existingVpcId is set but existingSubnetIds is not; give at least two subnets of that VPC in different zones.');
    }
    if (existingSubnetIds.length < ZONE_COUNT) {
      throw new Error(`Network: existingSubnetIds has ${existingSubnetIds.length} subnet(s); the load balancer needs at least ${ZONE_COUNT} in different zones.`);
    }
    if (new Set(existingSubnetIds).size !== existingSubnetIds.length) {
      throw new Error('Network: existingSubnetIds lists the same subnet twice.');
    }
    if (props.vpcCidr !== undefined) {
      throw new Error('Network: vpcCidr only applies to a new VPC; remove it or remove existingVpcId.');
    }
    return { namePrefix, existing: { vpcId: existingVpcId, subnetIds: existingSubnetIds }, vpcCidr: DEFAULT_VPC_CIDR };
  }
  const vpcCidr = props.vpcCidr ?? DEFAULT_VPC_CIDR;
  if (!Token.isUnresolved(vpcCidr)) checkVpcCidr(vpcCidr);
  return { namePrefix, vpcCidr };
}

function checkVpcCidr(cidr: string): void {
  const match = IPV4_CIDR.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((octet) => octet > 255)) {
    throw new Error(`Network: vpcCidr '${cidr}' is not an IPv4 CIDR block such as '10.0.0.0/16'.`);
  }
  // A VPC may be /16../28; two subnets big enough for a load balancer (/27 each) need /26 or larger.
  if (prefix < 16 || prefix > 26) {
    throw new Error(`Network: vpcCidr '${cidr}' has prefix /${prefix}; use /16 to /26 so it fits AWS limits and two /27 subnets.`);
  }
}

/** Bits added to the VPC prefix for each subnet: /24 subnets when there is room, else halves. */
function subnetNewBits(vpcCidr: string): number {
  if (Token.isUnresolved(vpcCidr)) return 8;
  const prefix = Number(vpcCidr.split('/')[1]);
  return prefix <= 23 ? 24 - prefix : 1;
}
