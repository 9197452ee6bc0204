import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export interface ClusterProps {
  /** The VPC the cluster's services run in. */
  readonly vpc: ec2.IVpc;
  /** The cluster's name: of the one created, or of the existing one with `existing`. */
  readonly clusterName: string;
  /**
   * Use the existing cluster named `clusterName` in `vpc`.
   * @default false - a cluster of that name is created, with Container Insights
   */
  readonly existing?: boolean;
}

/** The ECS cluster for the Fargate services, with Container Insights. */
export class Cluster extends Construct {
  public readonly cluster: ecs.ICluster;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.cluster = props.existing
      ? ecs.Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: props.clusterName, vpc: props.vpc })
      : new ecs.Cluster(this, 'Cluster', {
          vpc: props.vpc,
          clusterName: props.clusterName,
          containerInsightsV2: ecs.ContainerInsights.ENABLED,
        });
  }
}
