import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatFargateServiceProps } from '../../../lib/constructs/chat-fargate-service';

// Used on its own, in a stack with nothing of the app: the construct needs no ChatConfig and no Platform.
function setup() {
  const stack = new Stack(new App(), 'Test', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const alb = new ec2.SecurityGroup(stack, 'Alb', { vpc });
  const props: ChatFargateServiceProps = {
    serviceName: 'demo-web',
    cluster,
    architecture: 'arm64',
    taskSize: { cpu: 256, memoryMiB: 512 },
    logRetention: logs.RetentionDays.ONE_WEEK,
    securityGroup: { securityGroupName: 'demo-web', description: 'demo', ingress: [{ peer: alb, port: ec2.Port.tcp(80), description: 'from the ALB' }], egress: [] },
    containers: [
      {
        id: 'Web',
        image: { directory: 'synapse-admin' },
        streamPrefix: 'web',
        healthCheck: { command: 'wget -q -O /dev/null http://127.0.0.1/ || exit 1', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 30 },
        options: { containerName: 'web', portMappings: [{ containerPort: 80 }] },
      },
    ],
    target: { containerName: 'web', port: 80, healthCheck: { path: '/', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 30 } },
    healthCheckGracePeriod: Duration.seconds(60),
    plainEnvironmentReason: 'The demo container has no environment at all, so nothing secret can be in it.',
  };
  return { stack, props };
}

describe('ChatFargateService', () => {
  it('applies the secure defaults: private subnets, no public IP, a rolling-back circuit breaker, no outbound but the listed rules', () => {
    const { stack, props } = setup();
    new ChatFargateService(stack, 'Web', props);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'demo-web',
      DesiredCount: 1,
      DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      HealthCheckGracePeriodSeconds: 60,
    });
    const subnets = t.findResources('AWS::EC2::Subnet');
    const serviceSubnets = (Object.values(t.findResources('AWS::ECS::Service'))[0]!.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets as Array<{ Ref: string }>).map((s) => s.Ref);
    expect(serviceSubnets.length).toBe(2);
    for (const id of serviceSubnets) expect(subnets[id]!.Properties.MapPublicIpOnLaunch).toBe(false);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'demo-web',
      SecurityGroupEgress: [{ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }],
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/demo-web', RetentionInDays: 7 });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 80, TargetType: 'ip', HealthCheckPath: '/', UnhealthyThresholdCount: 3 });
  });

  it("keeps its children's logical ids as if the caller had made them (the 'Default' id)", () => {
    const { stack, props } = setup();
    const inner = new ChatFargateService(new Construct(stack, 'Owner'), CHAT_FARGATE_SERVICE_ID, props);
    expect(stack.resolve(stack.getLogicalId(inner.service.node.defaultChild as ecs.CfnService))).toMatch(/^OwnerService[0-9A-F]{8}$/);
    expect(stack.resolve(stack.getLogicalId(inner.targetGroup.node.defaultChild as elbv2.CfnTargetGroup))).toMatch(/^OwnerTargetGroup[0-9A-F]{8}$/);
  });

  it('makes the service depend on its first listener rule, so ECS never sees an unattached target group', () => {
    const { stack, props } = setup();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc: props.cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const svc = new ChatFargateService(stack, 'Web', { ...props, routes: { listener, hostHeader: 'example.com', rules: [{ id: 'Root', priority: 10, paths: ['/*'] }] } });
    const services = Template.fromStack(stack).findResources('AWS::ECS::Service');
    expect(Object.values(services)[0]!.DependsOn).toContain(stack.resolve(stack.getLogicalId(svc.rules[0]!.node.defaultChild as elbv2.CfnListenerRule)));
  });

  it('refuses a service with no container', () => {
    const { stack, props } = setup();
    expect(() => new ChatFargateService(stack, 'Web', { ...props, containers: [] })).toThrow('demo-web: a service needs at least one container');
    expect(stack.node.tryFindChild('Web')).toBeUndefined();
  });

  it('refuses a target container that is not in the task', () => {
    const { stack, props } = setup();
    expect(() => new ChatFargateService(stack, 'Web', { ...props, target: { ...props.target!, containerName: 'webb' } })).toThrow('demo-web: target.containerName "webb" names none of the containers');
    expect(stack.node.tryFindChild('Web')).toBeUndefined();
  });

  it('runs a service no request reaches: no target group, no grace period, and a clear error for its target group', () => {
    const { stack, props } = setup();
    const inner = new ChatFargateService(stack, 'Web', { ...props, target: undefined, healthCheckGracePeriod: undefined });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 0);
    expect(Object.values(t.findResources('AWS::ECS::Service'))[0]!.Properties.HealthCheckGracePeriodSeconds).toBeUndefined();
    expect(() => inner.targetGroup).toThrow('Test/Web: this service has no target group (it was made without a target)');
  });

  it('refuses routes or a grace period without a target', () => {
    const { stack, props } = setup();
    expect(() => new ChatFargateService(stack, 'Web', { ...props, target: undefined })).toThrow('demo-web: routes and healthCheckGracePeriod need a target');
    expect(stack.node.tryFindChild('Web')).toBeUndefined();
  });
});
