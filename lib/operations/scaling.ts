import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { ScalingTarget } from './thresholds';

/** A service's task-count bounds and the policies that move it between them (targets from SCALING_TARGETS). */
export interface ServiceScaling {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Track average CPU utilisation of the service's tasks. */
  readonly cpu?: ScalingTarget;
  /** Track ALB requests per target per minute; needs `targetGroup`. */
  readonly requests?: ScalingTarget & { readonly targetGroup: elbv2.ApplicationTargetGroup };
}

/**
 * Target-tracking autoscaling for an ECS service: the one way every stateless service of the app
 * (the MCP server, Hasura, the Synapse generic workers) scales, so each policy has its cooldowns and
 * a reasoned target. The ScalableTarget's MaxCapacity is what the connection budget multiplies each
 * task's pool by.
 */
export function scaleService(service: ecs.FargateService, scaling: ServiceScaling): ecs.ScalableTaskCount {
  const { minCapacity, maxCapacity } = scaling;
  if (!Number.isInteger(minCapacity) || minCapacity < 1 || !Number.isInteger(maxCapacity) || maxCapacity < minCapacity) {
    throw new Error(`${service.node.path}: autoscaling needs whole task counts with 1 <= minCapacity <= maxCapacity, got ${minCapacity}..${maxCapacity}`);
  }
  if (!scaling.cpu && !scaling.requests) throw new Error(`${service.node.path}: autoscaling needs a CPU or a request-count policy`);
  const count = service.autoScaleTaskCount({ minCapacity, maxCapacity });
  const cooldowns = (t: ScalingTarget) => ({ scaleOutCooldown: Duration.seconds(t.scaleOutCooldownSeconds), scaleInCooldown: Duration.seconds(t.scaleInCooldownSeconds) });
  if (scaling.cpu) count.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: scaling.cpu.target, ...cooldowns(scaling.cpu) });
  if (scaling.requests) count.scaleOnRequestCount('Requests', { requestsPerTarget: scaling.requests.target, targetGroup: scaling.requests.targetGroup, ...cooldowns(scaling.requests) });
  return count;
}
