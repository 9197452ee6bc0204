import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { keepOnceCreated } from '../removal-policy';

export interface NetworkProps {
  readonly config: ChatConfig;
}

/**
 * The VPC: public subnets for the ALB, private subnets with egress for tasks and
 * Lambdas, isolated subnets for RDS. Created, or imported by attributes so that
 * synth never needs a context lookup.
 */
export class Network extends Construct {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const net = props.config.network;

    if (net.mode === 'import') {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: net.vpcId,
        availabilityZones: net.availabilityZones,
        publicSubnetIds: net.publicSubnetIds,
        privateSubnetIds: net.privateSubnetIds,
        isolatedSubnetIds: net.isolatedSubnetIds,
      });
      // Imported subnets carry no route table id, and CDK warns that reading one returns undefined.
      // Nothing in this app reads them (no gateway endpoints or routes are added to an imported VPC).
      Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'The app never reads the route tables of imported subnets: it adds no routes or gateway endpoints to an imported VPC.',
      );
      return;
    }

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(net.cidr),
      // With no account/region given the stack is environment-agnostic, and CDK picks two
      // AZs with Fn::GetAZs at deploy time: no lookup at synth.
      maxAzs: 2,
      natGateways: net.natGateways,
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
              retention: props.config.monitoring.logRetentionDays as logs.RetentionDays,
              removalPolicy: keepOnceCreated(props.config),
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
  }
}
