import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { keepOnceCreated } from '../removal-policy';

/** A VPC created by the Network construct. */
export interface CreatedNetworkProps {
  /** The VPC's IPv4 CIDR block, e.g. `10.40.0.0/16`. */
  readonly cidr: string;
  /** NAT gateways for the private subnets' egress (one per AZ for high availability, up to 2). */
  readonly natGateways: number;
  /** How long the VPC flow logs stay in their log group. */
  readonly flowLogRetention: logs.RetentionDays;
  /**
   * Whether the flow-log group outlives the stack (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - the log group is deleted with the stack
   */
  readonly retainFlowLogs?: boolean;
}

/** An existing VPC, used as it is. */
export interface ImportedNetworkProps {
  /** Its id, AZs and subnet ids: imported by attributes, so synth needs no context lookup. */
  readonly existingVpc: ec2.VpcAttributes;
}

export type NetworkProps = CreatedNetworkProps | ImportedNetworkProps;

/**
 * The VPC: public subnets for the ALB, private subnets with egress for tasks and
 * Lambdas, isolated subnets for RDS. Created, or imported by attributes so that
 * synth never needs a context lookup.
 */
export class Network extends Construct {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    if ('existingVpc' in props) {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', props.existingVpc);
      // Imported subnets carry no route table id, and CDK warns that reading one returns undefined.
      // Nothing in this app reads them (no gateway endpoints or routes are added to an imported VPC).
      Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'The app never reads the route tables of imported subnets: it adds no routes or gateway endpoints to an imported VPC.',
      );
      return;
    }

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      // With no account/region given the stack is environment-agnostic, and CDK picks two
      // AZs with Fn::GetAZs at deploy time: no lookup at synth.
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        All: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: props.flowLogRetention,
              removalPolicy: keepOnceCreated({ production: props.retainFlowLogs ?? false }),
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
  }
}
