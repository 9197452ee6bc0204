/** A string found in a template, with the JSON path that leads to it. */
export interface TemplateString {
  readonly path: string;
  readonly value: string;
  /** The nearest object key above the value (e.g. `Value` inside an env entry has `Name` beside it). */
  readonly key: string;
  readonly parent: Record<string, unknown> | unknown[];
}

/** Every literal string in a CloudFormation template, depth first. */
export function templateStrings(node: unknown, path = '$', key = '', parent: Record<string, unknown> | unknown[] = []): TemplateString[] {
  if (typeof node === 'string') return [{ path, value: node, key, parent }];
  if (Array.isArray(node)) return node.flatMap((v, i) => templateStrings(v, `${path}[${i}]`, key, node));
  if (node && typeof node === 'object') {
    return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => templateStrings(v, `${path}.${k}`, k, node as Record<string, unknown>));
  }
  return [];
}

/**
 * Properties that give a resource its physical name (CloudFormation "Name type"): with one set,
 * CloudFormation cannot create a second resource of that name, so a copy left behind blocks the next create.
 */
export const PHYSICAL_NAME_PROPERTIES = [
  'AlarmName',
  'BucketName',
  'ClusterName',
  'DBClusterIdentifier',
  'DBInstanceIdentifier',
  'DashboardName',
  'FunctionName',
  'LogGroupName',
  'ManagedPolicyName',
  'Name',
  'QueueName',
  'RepositoryName',
  'RoleName',
  'SecretName',
  'ServiceName',
  'StateMachineName',
  'TableName',
  'TopicName',
  'UserPoolName',
] as const;

type CfnTemplate = { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }> };

/** The resource's own physical name, when the template fixes it (see `isFixed`). */
export function fixedPhysicalName(template: CfnTemplate, logicalId: string, seen = new Set<string>()): { property: string; value: unknown } | undefined {
  const props = template.Resources?.[logicalId]?.Properties ?? {};
  for (const property of PHYSICAL_NAME_PROPERTIES) {
    if (props[property] !== undefined && isFixed(template, props[property], new Set([...seen, logicalId]))) return { property, value: props[property] };
  }
  return undefined;
}

/**
 * Whether a value is the same on every create of the stack: literals, pseudo parameters
 * (AWS::StackName, AWS::Region, …), stack parameters, and joins or subs of those. A Ref or GetAtt of
 * a resource is fixed only if that resource's own name is (a generated name differs per create).
 */
export function isFixed(template: CfnTemplate, value: unknown, seen = new Set<string>()): boolean {
  if (typeof value === 'string' || typeof value === 'number') return true;
  if (Array.isArray(value)) return value.every((v) => isFixed(template, v, seen));
  if (!value || typeof value !== 'object') return false;
  const [fn, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  const refersTo = (id: string): boolean => {
    if (id.startsWith('AWS::') || !template.Resources?.[id]) return true; // pseudo parameter or stack parameter
    return !seen.has(id) && fixedPhysicalName(template, id, seen) !== undefined;
  };
  switch (fn) {
    case 'Ref':
      return refersTo(String(arg));
    case 'Fn::GetAtt':
      return refersTo(String(Array.isArray(arg) ? arg[0] : String(arg).split('.')[0]));
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? [String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>] : [String(arg), {}];
      const names = [...text.matchAll(/\$\{([^}!]+)\}/g)].map((m) => m[1].split('.')[0]);
      return names.every((n) => (n in vars ? isFixed(template, vars[n], seen) : refersTo(n)));
    }
    case 'Fn::Join':
    case 'Fn::Select':
    case 'Fn::Split':
      return isFixed(template, arg, seen);
    default:
      return false;
  }
}

/** Resources with DeletionPolicy Retain and a fixed physical name: what a rolled-back first create leaves in the way. */
export function retainedWithFixedName(template: CfnTemplate): Array<{ logicalId: string; type: string; property: string }> {
  return Object.entries(template.Resources ?? {}).flatMap(([logicalId, r]) => {
    if (r.DeletionPolicy !== 'Retain') return [];
    const name = fixedPhysicalName(template, logicalId);
    if (!name) return [];
    return [{ logicalId, type: r.Type, property: name.property }];
  });
}
