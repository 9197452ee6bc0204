import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Platform } from '../../../lib/platform';
import { DeletionProtection } from '../../../lib/platform/deletion-protection';

// The platform as another CDK app would use it: plain props written by hand, no ChatConfig anywhere.
function platformStack() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Reuse', { env: { region: 'eu-west-1' } });
  const platform = new Platform(stack, 'Platform', {
    prefix: 'reuse',
    network: { cidr: '10.7.0.0/16', natGateways: 1, flowLogRetention: logs.RetentionDays.ONE_WEEK },
    loadBalancer: {
      existing: {
        loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/0123456789abcdef',
        listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/0123456789abcdef/fedcba9876543210',
        securityGroupId: 'sg-0aaaaaaaaaaaaaaaa',
        dnsName: 'shared-123.eu-west-1.elb.amazonaws.com',
        canonicalHostedZoneId: 'Z32O12XQLNTSW2',
      },
    },
    cluster: { clusterName: 'reuse-cluster' },
    database: {
      engineVersion: rds.PostgresEngineVersion.VER_17_9,
      prefix: 'reuse',
      instanceType: new ec2.InstanceType('t4g.medium'),
      multiAz: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 40,
      backupRetention: Duration.days(3),
      deletionProtection: true,
      snapshotOnDelete: false,
      logRetention: logs.RetentionDays.ONE_WEEK,
    },
    userPool: { existing: { userPoolId: 'eu-west-1_AbCdEfGhI', domain: 'reuse.auth.eu-west-1.amazoncognito.com' } },
  });
  return { stack, platform };
}

describe('the platform on flat props', () => {
  const { stack, platform } = platformStack();
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  platform.database.grantReadCredentials(role);
  new DeletionProtection(stack, 'Protection', { prefix: 'reuse', logRetention: logs.RetentionDays.ONE_WEEK, database: platform.database.instance });
  const t = Template.fromStack(stack);

  it('creates what is given as settings and only imports what is given as attributes', () => {
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.7.0.0/16' });
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'reuse-cluster' });
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t4g.medium', BackupRetentionPeriod: 3, DeletionProtection: Match.absent() });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
  });

  it('lets the imported ALB into the task security groups', () => {
    const [synapseSg] = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'reuse-synapse' } }));
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [synapseSg, 'GroupId'] },
      SourceSecurityGroupId: 'sg-0aaaaaaaaaaaaaaaa',
      FromPort: 8008,
    });
  });

  it("gives read of the database's credentials through its grant, and protects the instance it is given", () => {
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] })] },
    });
    t.hasResourceProperties('Custom::ChatDeletionProtection', { DBInstanceIdentifier: Match.anyValue() });
    t.resourceCountIs('Custom::ChatTerminationProtectionRelease', 0);
  });
});
