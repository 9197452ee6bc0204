import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';

export interface ClusterProps {
  readonly config: ChatConfig;
  readonly vpc: ec2.IVpc;
}

/** The ECS cluster for the Fargate services, with Container Insights. */
export class Cluster extends Construct {
  public readonly cluster: ecs.ICluster;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    const c = props.config.cluster;
    this.cluster =
      c.mode === 'import'
        ? ecs.Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: c.clusterName, vpc: props.vpc })
        : new ecs.Cluster(this, 'Cluster', {
            vpc: props.vpc,
            clusterName: `${props.config.prefix}-cluster`,
            containerInsightsV2: ecs.ContainerInsights.ENABLED,
          });
  }
}
