import { Template } from 'aws-cdk-lib/assertions';
import { CfnTemplate, expectWithinLimits, stepLimits } from '../../support/deploy-step-limits';
import { synthesizeVariant } from '../../support/synth';
import { IMPORT_EVERYTHING } from '../../support/synth-variants';

describe('import mode', () => {
  let template: Template;
  let warnings: string[];
  beforeAll(() => {
    const synth = synthesizeVariant(IMPORT_EVERYTHING);
    template = Template.fromJSON(synth.templates['PhenomChat-development'] as Record<string, unknown>);
    warnings = synth.warnings;
  });

  it('synthesizes with no warning (imported subnets have no route table ids, and nothing reads them)', () => {
    expect(warnings).toEqual([]);
  });

  it('keeps every deploy step, the trigger-attaching one too, inside its time limits', () => {
    const steps = stepLimits(template.toJSON() as CfnTemplate);
    expect(steps.map((s) => s.type)).toContain('Custom::ChatUserPoolTriggers');
    expectWithinLimits(steps);
  });

  it('creates none of the imported platform parts', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::NatGateway',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ECS::Cluster',
      'AWS::RDS::DBInstance',
      'AWS::Cognito::UserPool',
      'AWS::CertificateManager::Certificate',
    ]) {
      expect({ type, count: Object.keys(template.findResources(type)).length }).toEqual({ type, count: 0 });
    }
  });

  it('adds the chat routes to the imported listener', () => {
    const rules = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.Properties.ListenerArn).toBe('arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/phenom-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2');
    }
  });

  it("signs admins in at the ALB with the imported pool and its hosted-UI domain's prefix", () => {
    const auth = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))
      .flatMap((r) => r.Properties.Actions as Array<{ Type: string; AuthenticateCognitoConfig?: Record<string, unknown> }>)
      .filter((a) => a.Type === 'authenticate-cognito');
    expect(auth.length).toBe(2);
    for (const a of auth) {
      // ELB wants the prefix of a Cognito domain (a custom domain would be passed whole)
      expect(a.AuthenticateCognitoConfig).toMatchObject({ UserPoolDomain: 'phenom-dev', UserPoolArn: expect.stringContaining('userpool/us-east-1_AbCdEfGhI') });
    }
  });

  it('opens the imported RDS security group to the chat tasks on 5432 only', () => {
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) => r.Properties.GroupId === 'sg-0b1b2c3d4e5f60718');
    expect(rules.length).toBeGreaterThanOrEqual(2);
    for (const r of rules) expect(r.Properties).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
  });

  it('places tasks and Lambdas in the imported private subnets', () => {
    const fnSubnets = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.VpcConfig?.SubnetIds)
      .filter(Boolean);
    expect(fnSubnets.length).toBeGreaterThan(0);
    for (const ids of fnSubnets) expect(ids).toEqual(['subnet-0b00000000000000a', 'subnet-0b00000000000000b']);
  });
});
