import { scalableTargetOf } from '../../lib/operations/template-refs';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/**
 * A service's ScalableTarget (its min and max) and its target-tracking policies as
 * [metric, target value, scale-out cooldown, scale-in cooldown], sorted.
 */
export function serviceScaling(resources: Resources, serviceId: string): { minCapacity: unknown; maxCapacity: unknown; policies: [string, number, number, number][] } {
  const found = scalableTargetOf(Object.entries(resources), serviceId);
  if (!found) throw new Error(`no ScalableTarget for ${serviceId}`);
  const [targetId, target] = found;
  const policies = Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy' && JSON.stringify(r.Properties.ScalingTargetId).includes(targetId))
    .map(
      (p) =>
        p.Properties.TargetTrackingScalingPolicyConfiguration as {
          TargetValue: number;
          ScaleOutCooldown: number;
          ScaleInCooldown: number;
          PredefinedMetricSpecification: { PredefinedMetricType: string };
        },
    )
    .map((c): [string, number, number, number] => [c.PredefinedMetricSpecification.PredefinedMetricType, c.TargetValue, c.ScaleOutCooldown, c.ScaleInCooldown])
    .sort();
  return { minCapacity: target.Properties.MinCapacity, maxCapacity: target.Properties.MaxCapacity, policies };
}
