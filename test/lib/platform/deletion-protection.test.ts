import { Template } from 'aws-cdk-lib/assertions';
import { stackTemplate } from '../../support/synth';

type Resources = Record<string, { Type: string; Properties?: unknown; DependsOn?: string | string[] }>;

/** Every resource `id` waits for: what it names with Ref, GetAtt or Sub, and its DependsOn, transitively. */
function dependenciesOf(resources: Resources, id: string, seen = new Set<string>()): Set<string> {
  const r = resources[id];
  const direct = new Set<string>([r.DependsOn ?? []].flat());
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string') direct.add(v);
      else if (k === 'Fn::GetAtt') direct.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (k === 'Fn::Sub') for (const m of JSON.stringify(v).matchAll(/\$\{([^}.!]+)/g)) direct.add(m[1]);
      walk(v);
    }
  };
  walk(r.Properties);
  for (const dep of direct) {
    if (!resources[dep] || seen.has(dep)) continue;
    seen.add(dep);
    dependenciesOf(resources, dep, seen);
  }
  return seen;
}

const only = (t: Template, type: string): string => {
  const ids = Object.keys(t.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('deletion protection in production', () => {
  const t = stackTemplate('production');
  const resources = t.toJSON().Resources as Resources;

  it('protects the database and the ALB right after they exist: the step waits for both, and only for what they need', () => {
    const deps = dependenciesOf(resources, only(t, 'Custom::ChatDeletionProtection'));
    expect(deps).toContain(only(t, 'AWS::RDS::DBInstance'));
    expect(deps).toContain(only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
    // Nothing from the chat constructs: the step must not wait for (or be rolled back after) them.
    expect([...deps].filter((id) => /^Chat/.test(id))).toEqual([]);
  });

  it('can lift termination protection from the first minute: the release step waits for nothing but its own function', () => {
    const deps = [...dependenciesOf(resources, only(t, 'Custom::ChatTerminationProtectionRelease'))].map((id) => resources[id].Type);
    expect(new Set(deps)).toEqual(new Set(['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Logs::LogGroup']));
  });

  it('grants each step only its own calls, on this stack and these resources', () => {
    const statements = (prefix: string) =>
      Object.entries(t.findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(([, p]) => (p.Properties as { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }).PolicyDocument.Statement);
    expect(statements('DeletionProtectionProtectHandler')).toEqual([
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
      {
        Action: ['rds:DescribeDBInstances', 'rds:ModifyDBInstance'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:aws:rds:us-east-1:', { Ref: 'AWS::AccountId' }, ':db:', { Ref: only(t, 'AWS::RDS::DBInstance') }]] },
      },
      { Action: 'elasticloadbalancing:ModifyLoadBalancerAttributes', Effect: 'Allow', Resource: { Ref: only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer') } },
    ]);
    expect(statements('DeletionProtectionReleaseHandler')).toEqual([
      { Action: ['cloudformation:DescribeStacks', 'cloudformation:UpdateTerminationProtection'], Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });
});

describe('deletion protection in development', () => {
  it('has no deletion-protection steps: nothing there is protected', () => {
    const t = stackTemplate('development');
    t.resourceCountIs('Custom::ChatDeletionProtection', 0);
    t.resourceCountIs('Custom::ChatTerminationProtectionRelease', 0);
    t.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: false });
  });
});
