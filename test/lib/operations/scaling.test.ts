import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { scaleService } from '../../../lib/operations/scaling';
import { SCALING_TARGETS } from '../../../lib/operations/thresholds';

function serviceStack() {
  const stack = new Stack(new App(), 'Scaling');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  task.addContainer('App', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.37'), portMappings: [{ containerPort: 8080 }] });
  const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition: task });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Tg', { vpc, port: 8080, targetType: elbv2.TargetType.IP, targets: [service] });
  alb.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
  return { stack, service, targetGroup };
}

describe('scaleService', () => {
  it('tracks CPU and requests per target between the bounds, each policy with its cooldowns', () => {
    const { stack, service, targetGroup } = serviceStack();
    scaleService(service, { minCapacity: 2, maxCapacity: 6, cpu: SCALING_TARGETS.hasuraCpu, requests: { ...SCALING_TARGETS.hasuraRequests, targetGroup } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
        ScaleOutCooldown: 60,
        ScaleInCooldown: 300,
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: Match.anyValue() },
        TargetValue: 6000,
        ScaleOutCooldown: 60,
        ScaleInCooldown: 300,
      },
    });
  });

  it('a CPU-only service (the Synapse generic workers) gets one policy', () => {
    const { stack, service } = serviceStack();
    scaleService(service, { minCapacity: 1, maxCapacity: 4, cpu: SCALING_TARGETS.synapseWorkerCpu });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, ScaleOutCooldown: 60, ScaleInCooldown: 600 } });
  });

  it('refuses bounds that are not 1 <= min <= max whole numbers, and a service with no policy', () => {
    const cpu = SCALING_TARGETS.mcpCpu;
    for (const [min, max] of [
      [0, 2],
      [3, 2],
      [1, 2.5],
    ]) {
      const { service } = serviceStack();
      expect(() => scaleService(service, { minCapacity: min, maxCapacity: max, cpu })).toThrow(/autoscaling needs whole task counts with 1 <= minCapacity <= maxCapacity/);
    }
    const { service } = serviceStack();
    expect(() => scaleService(service, { minCapacity: 1, maxCapacity: 2 })).toThrow(/needs a CPU or a request-count policy/);
    expect(() => scaleService(serviceStack().service, { minCapacity: 1, maxCapacity: 1, cpu })).not.toThrow();
  });

  it('every policy target has both cooldowns', () => {
    for (const [name, t] of Object.entries(SCALING_TARGETS)) {
      expect([name, t.scaleOutCooldownSeconds > 0 && t.scaleInCooldownSeconds >= t.scaleOutCooldownSeconds]).toEqual([name, true]);
    }
  });
});
