import { Template } from 'aws-cdk-lib/assertions';
import { CfnTemplate, expectWithinLimits, stepLimits } from '../../support/deploy-step-limits';
import { cdkJsonEnvironments, synthesize } from '../../support/synth';

/** A development environment that imports every platform part by attributes. */
function importEverything(): Record<string, Record<string, unknown>> {
  const envs = cdkJsonEnvironments();
  Object.assign(envs.development, {
    account: '111122223333',
    certificate: { mode: 'import', arn: 'arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100' },
    network: {
      mode: 'import',
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      publicSubnetIds: ['subnet-0a00000000000000a', 'subnet-0a00000000000000b'],
      privateSubnetIds: ['subnet-0b00000000000000a', 'subnet-0b00000000000000b'],
      isolatedSubnetIds: ['subnet-0c00000000000000a', 'subnet-0c00000000000000b'],
    },
    loadBalancer: {
      mode: 'import',
      listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/phenom-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
      securityGroupId: 'sg-0a1b2c3d4e5f60718',
      loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/phenom-dev-alb/50dc6c495c0c9188',
      dnsName: 'phenom-dev-alb-123456789.us-east-1.elb.amazonaws.com',
      canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    },
    cluster: { mode: 'import', clusterName: 'phenom-dev-cluster' },
    database: {
      mode: 'import',
      endpoint: 'phenom-dev-postgres.abcdefghijkl.us-east-1.rds.amazonaws.com',
      secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-dev-rds-AbCdEf',
      securityGroupId: 'sg-0b1b2c3d4e5f60718',
      instanceIdentifier: 'phenom-dev-postgres',
    },
    userPool: { mode: 'import', userPoolId: 'us-east-1_AbCdEfGhI', domain: 'phenom-dev.auth.us-east-1.amazoncognito.com' },
  });
  return envs;
}

describe('import mode', () => {
  let template: Template;
  let warnings: string[];
  beforeAll(() => {
    const { app, templates } = synthesize('development', importEverything());
    template = Template.fromJSON(templates['PhenomChat-development'] as Record<string, unknown>);
    warnings = app
      .synth()
      .getStackByName('PhenomChat-development')
      .messages.filter((m) => m.level === 'warning')
      .map((m) => `${m.id}: ${String(m.entry.data)}`);
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
