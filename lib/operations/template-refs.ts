/**
 * Reading a synthesized CloudFormation template: the few lookups the connection budget, the cost
 * estimate and the tests all make, written once.
 */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** Strips CDK's 8-hex-digit logical-id suffix: SynapseServiceA1B2C3D4 → SynapseService. */
export const readableId = (logicalId: string): string => logicalId.replace(/[0-9A-F]{8}$/, '');

/** Does `value` (any JSON) reference `logicalId` through Ref or Fn::GetAtt? */
export function references(value: unknown, logicalId: string): boolean {
  const json = JSON.stringify(value ?? null);
  return json.includes(`{"Ref":"${logicalId}"}`) || json.includes(`{"Fn::GetAtt":["${logicalId}",`);
}

/** Of a template's resources (Object.entries of Resources), the ScalableTarget whose ResourceId names the ECS service `serviceId`, if it scales. */
export function scalableTargetOf<R extends TemplateResource>(resources: readonly [string, R][], serviceId: string): [string, R] | undefined {
  return resources.find(([, r]) => r.Type === 'AWS::ApplicationAutoScaling::ScalableTarget' && references(r.Properties?.ResourceId, serviceId));
}
