import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { DEFAULT_VPC_CIDR, ZONE_COUNT } from './construct-defaults';
export { DEFAULT_VPC_CIDR, VPC_PREFIX_LENGTH, ZONE_COUNT } from './construct-defaults';

export interface NetworkProps {
  /** Prefix of every resource name (the `Name` tag here). */
  readonly namePrefix: string;
  /**
   * CIDR block of the VPC this construct creates, /16 to /26 (VPC_PREFIX_LENGTH).
   * @default DEFAULT_VPC_CIDR
   */
  readonly vpcCidr?: string;
  /**
   * Use this VPC and these subnets (at least two, in different zones, with a route to the
   * internet) instead of creating a VPC.
   * @default a new VPC with two public subnets in two availability zones
   */
  readonly existing?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
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
    if (props.existing !== undefined) {
      this.vpcId = props.existing.vpcId;
      this.publicSubnetIds = [...props.existing.subnetIds];
      return;
    }

    const namePrefix = props.namePrefix;
    const vpcCidr = props.vpcCidr ?? DEFAULT_VPC_CIDR;
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

/** Bits added to the VPC prefix for each subnet: /24 subnets when there is room, else halves. */
function subnetNewBits(vpcCidr: string): number {
  if (Token.isUnresolved(vpcCidr)) return 8;
  const prefix = Number(vpcCidr.split('/')[1]);
  return prefix <= 23 ? 24 - prefix : 1;
}
