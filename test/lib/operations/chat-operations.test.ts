import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ChatConfig, loadConfig } from '../../../lib/config';
import { ChatFunction } from '../../../lib/constructs/chat-function';
import { ChatOperations, discoverChatFunctions, SynapseHistoryPurge } from '../../../lib/operations';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments } from '../../support/synth';
import { chatFunctionCommonProps, chatOperationsPlatformProps, platformProps, synapseHistoryPurgePlatformProps } from '../../../lib/construct-props';

/**
 * ChatOperations on its own, in a stack with the platform, one load-balanced
 * Fargate service and one Lambda: the construct's behaviour for configs the
 * cdk.json environments do not use (imported ALB, WAF off/on, alarm e-mail).
 */
function operationsStack(envName: string, edit: (env: Record<string, unknown>) => void = () => undefined): { template: Template; config: ChatConfig } {
  const envs = cdkJsonEnvironments();
  edit(envs[envName]);
  const config = loadConfig(envs, envName);
  const app = new App();
  const stack = new Stack(app, 'Ops', { env: { region: config.region } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const task = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512 });
  task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/nginx:1.27'), portMappings: [{ containerPort: 80 }] });
  const service = new ecs.FargateService(stack, 'Service', { cluster: platform.cluster, taskDefinition: task, serviceName: 'web' });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc: platform.vpc, port: 80, protocol: elbv2.ApplicationProtocol.HTTP, targets: [service] });
  platform.listener.addTargetGroups('Web', { targetGroups: [targetGroup], priority: 10, conditions: [elbv2.ListenerCondition.pathPatterns(['/web/*'])] });
  new ChatFunction(stack, 'Worker', { ...chatFunctionCommonProps(config), entry: 'synapse-purge-history/index.ts', description: 'a worker' });
  const botToken = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Bot', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bot-AbCdEf');
  new ChatOperations(stack, 'Ops', {
    ...chatOperationsPlatformProps(config, platform),
    services: [{ name: 'web', service, targetGroup }],
    functions: discoverChatFunctions(stack),
    historyPurge: (scope, id) =>
      new SynapseHistoryPurge(scope, id, {
        ...synapseHistoryPurgePlatformProps(config, platform),
        synapseUrl: 'http://synapse.test.internal:8008',
        synapse: service,
        adminTokenSecret: botToken,
        adminTokenSecretKey: 'accessToken',
      }),
  });
  return { template: Template.fromStack(stack), config };
}

describe('ChatOperations', () => {
  const production = operationsStack('production', (env) => {
    (env.monitoring as unknown) = { alarmEmail: 'ops@example.com' };
  });

  test('subscribes the configured e-mail to an encrypted, TLS-only alarm topic', () => {
    const t = production.template;
    t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'phenom-production-alarms', KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    // CloudWatch must be able to use the topic's key, or alarm notifications are dropped.
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
  });

  test('puts WAF with the rate rule and both managed rule sets on the ALB in production, logging with credentials redacted', () => {
    const t = production.template;
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        // Production is behind Cloudflare (edge.provider defaults to cloudflare there): count the visitor, not the edge node.
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: { Limit: 2000, AggregateKeyType: 'FORWARDED_IP', ForwardedIPConfig: { HeaderName: 'CF-Connecting-IP', FallbackBehavior: 'MATCH' }, EvaluationWindowSec: 300 },
          },
        }),
        // WAF skips the rule above for a request without the header: those are counted by connecting address.
        Match.objectLike({
          Name: 'RateLimitWithoutClientIpHeader',
          Priority: 1,
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: {
              Limit: 100,
              AggregateKeyType: 'IP',
              EvaluationWindowSec: 300,
              ScopeDownStatement: {
                NotStatement: {
                  Statement: {
                    SizeConstraintStatement: { FieldToMatch: { SingleHeader: { Name: 'cf-connecting-ip' } }, ComparisonOperator: 'GT', Size: 0, TextTransformations: [{ Priority: 0, Type: 'NONE' }] },
                  },
                },
              },
            },
          },
          VisibilityConfig: { CloudWatchMetricsEnabled: true, MetricName: 'RateLimitWithoutClientIpHeader', SampledRequestsEnabled: true },
        }),
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }) } }),
        Match.objectLike({
          Name: 'AWSManagedRulesKnownBadInputsRuleSet',
          Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' }) },
        }),
      ],
    });
    const albs = Object.keys(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: albs[0] } });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-phenom-production', RetentionInDays: 365 });
    t.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }],
    });
  });

  test('counts the connecting address with edge.provider none (no proxy in front of the ALB)', () => {
    const { template } = operationsStack('production', (env) => (env.edge = { provider: 'none' }));
    const rules = template.findResources('AWS::WAFv2::WebACL');
    const [acl] = Object.values(rules);
    const aclRules = acl!.Properties.Rules as { Name: string; Statement: Record<string, unknown> }[];
    const rate = aclRules.find((r) => r.Name === 'RateLimitPerIp')!;
    expect(rate.Statement).toEqual({ RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } });
    // Every request is counted by the rule above, so there is no header fallback: the IP rule is the only rate rule.
    expect(aclRules.map((r) => r.Name)).toEqual(['RateLimitPerIp', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']);
  });

  test('associates WAF with an imported ALB by the ARN from config, with the configured rate', () => {
    const arn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/existing/0123456789abcdef';
    const { template } = operationsStack('production', (env) => {
      env.loadBalancer = {
        mode: 'import',
        loadBalancerArn: arn,
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/existing/0123456789abcdef/0123456789abcdef',
        securityGroupId: 'sg-0123456789abcdef0',
        dnsName: 'existing-123.us-east-1.elb.amazonaws.com',
        canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      };
      env.waf = { ratePerIpPer5Min: 500 };
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: arn });
    template.hasResourceProperties('AWS::WAFv2::WebACL', { Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } })]) });
  });

  test('runs the history purge daily with the configured retention, the rooms, and the bot token secret', () => {
    const t = production.template;
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 3 * * ? *)', State: 'ENABLED' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Purges Synapse room history older than 90 days',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      VpcConfig: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          SYNAPSE_URL: 'http://synapse.test.internal:8008',
          RETENTION_DAYS: '90',
          ROOM_ALIASES: '#internal:thephenom.app,#partners:thephenom.app,#community:thephenom.app',
          ADMIN_TOKEN_SECRET_KEY_NAME: 'accessToken',
          ADMIN_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bot-AbCdEf',
        }),
      },
    });
    // The purge Lambda's SG may reach Synapse on 8008.
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 8008, ToPort: 8008, IpProtocol: 'tcp', SourceSecurityGroupId: Match.anyValue() });
  });
});
