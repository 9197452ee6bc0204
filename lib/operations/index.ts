import { AspectPriority, Aspects, CfnOutput, CfnResource, CustomResource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ChatConfig } from '../config';
import { ChatFunction } from '../constructs/chat-function';
import { Platform } from '../platform';
import { ChatAlarmTopic } from './alarm-topic';
import { LambdaLogGroups } from './lambda-log-groups';
import { ChatMonitoring, MonitoredFunction, MonitoredService, pascal, PowertoolsMetricsSource } from './monitoring';
import { ChatLogQueries } from './queries';
import { SynapseHistoryPurge } from './synapse-history-purge';
import { synapseHistoryPurgePlatformProps } from '../construct-props';
import { ChatWaf } from './waf';
import { keepOnceCreated } from '../removal-policy';

export { ChatAlarmTopic } from './alarm-topic';
export { ChatMonitoring, METRICS_NAMESPACE } from './monitoring';
export type { MonitoredFunction, MonitoredService, PowertoolsMetricsSource } from './monitoring';
export { ChatLogQueries } from './queries';
export { chatRoomAliases, SynapseHistoryPurge } from './synapse-history-purge';
export { ALARM_THRESHOLDS } from './thresholds';
export { ChatWaf } from './waf';

/** What the history purge needs from the Synapse construct. */
export interface SynapsePurgeTarget {
  /** Synapse's URL inside the VPC. */
  readonly internalUrl: string;
  /** Synapse's tasks, so the purge Lambda may connect to them. */
  readonly connections: ec2.IConnectable;
  /** @default 8008 */
  readonly port?: number;
  /** The secret with a server-admin access token (the admin bot's). */
  readonly adminTokenSecret: secretsmanager.ISecret;
  /** The token's JSON key in that secret. */
  readonly adminTokenSecretKey?: string;
}

export interface ChatOperationsProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
  /** The ECS services to watch, with their target groups. */
  readonly services: readonly MonitoredService[];
  /** The Lambdas to watch (see `discoverChatFunctions`). The history purge is added here automatically. */
  readonly functions: readonly MonitoredFunction[];
  /** @default - no link-preview cache/latency section and no link-preview failures query */
  readonly linkPreview?: PowertoolsMetricsSource & { readonly logGroup: logs.ILogGroup };
  /** @default - no provisioning-failure alarm */
  readonly userProvisioner?: PowertoolsMetricsSource;
  /** @default - no MCP Logs Insights queries */
  readonly mcpServerLogGroup?: logs.ILogGroup;
  /** @default - no scheduled history purge */
  readonly synapse?: SynapsePurgeTarget;
  /**
   * Extra values docs/operations.md reads from the stack outputs (key → value).
   * @default - none
   */
  readonly runbookOutputs?: Record<string, string>;
}

/**
 * Everything operators need, arriving with `cdk deploy`: the alarm topic, WAF on
 * the ALB (per config), the scheduled Synapse history purge, saved Logs
 * Insights queries, and the dashboard with its alarms. Wired last in the stack,
 * from the public fields of the constructs it watches.
 */
export class ChatOperations extends Construct {
  public readonly alarmTopic: ChatAlarmTopic;
  public readonly waf?: ChatWaf;
  public readonly historyPurge?: SynapseHistoryPurge;
  public readonly queries: ChatLogQueries;
  public readonly monitoring: ChatMonitoring;

  constructor(scope: Construct, id: string, props: ChatOperationsProps) {
    super(scope, id);
    const { config, platform } = props;

    this.alarmTopic = new ChatAlarmTopic(this, 'Alarms', { config });
    if (config.waf.enabled) {
      // The platform's ALB, or the imported one (its ARN comes from config.loadBalancer.loadBalancerArn).
      this.waf = new ChatWaf(this, 'Waf', { config, loadBalancerArn: platform.loadBalancer.loadBalancer.loadBalancerArn });
    }
    if (props.synapse) {
      this.historyPurge = new SynapseHistoryPurge(this, 'SynapseHistoryPurge', {
        ...synapseHistoryPurgePlatformProps(config, platform),
        synapseUrl: props.synapse.internalUrl,
        synapse: props.synapse.connections,
        synapsePort: props.synapse.port,
        adminTokenSecret: props.synapse.adminTokenSecret,
        adminTokenSecretKey: props.synapse.adminTokenSecretKey,
      });
    }
    this.queries = new ChatLogQueries(this, 'Queries', { config, mcpServerLogGroup: props.mcpServerLogGroup, linkPreviewLogGroup: props.linkPreview?.logGroup });

    const database = config.database;
    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      config,
      alarmTopic: this.alarmTopic.topic,
      loadBalancer: platform.loadBalancer.loadBalancer,
      clusterName: platform.cluster.clusterName,
      services: props.services,
      database: platform.database.instance,
      databaseInstanceClass: database.mode === 'create' ? database.instanceClass : undefined,
      databaseAllocatedStorageGiB: database.mode === 'create' ? database.allocatedStorageGiB : undefined,
      functions: [
        ...props.functions.filter((f) => f.function !== this.historyPurge?.handler.function),
        ...(this.historyPurge ? [{ name: 'synapse-history-purge', function: this.historyPurge.handler.function, section: 'Scheduled maintenance', logGroup: this.historyPurge.handler.logGroup }] : []),
      ],
      linkPreview: props.linkPreview,
      userProvisioner: props.userProvisioner,
      webAcl: this.waf?.webAcl,
    });

    const stack = Stack.of(this);
    Aspects.of(stack).add(new LambdaLogGroups(config.monitoring.logRetentionDays, keepOnceCreated(config)), {
      priority: AspectPriority.MUTATING,
    });
    new CfnOutput(stack, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn, description: 'SNS topic every alarm notifies; subscribe more endpoints here' });
    new CfnOutput(stack, 'DashboardName', { value: this.monitoring.dashboardName, description: 'CloudWatch dashboard of this environment' });
    // Names the runbook (docs/operations.md) reads with describe-stacks.
    for (const [key, value] of Object.entries(props.runbookOutputs ?? {})) new CfnOutput(stack, key, { value });
    for (const s of props.services) {
      new CfnOutput(stack, `${pascal(s.name)}ServiceName`, { value: s.service.serviceName, description: `ECS service ${s.name}` });
      const logGroupName = s.logGroup?.logGroupName ?? awslogsGroupName(s.service);
      if (logGroupName) new CfnOutput(stack, `${pascal(s.name)}LogGroupName`, { value: logGroupName, description: `Log group of ${s.name}` });
    }
    for (const f of this.monitoring.functions) {
      new CfnOutput(stack, `${pascal(f.name)}FunctionName`, { value: f.function.functionName, description: `Lambda ${f.name}` });
      if (f.logGroup) new CfnOutput(stack, `${pascal(f.name)}FunctionLogGroupName`, { value: f.logGroup.logGroupName, description: `Log group of Lambda ${f.name}` });
    }
    if (this.waf) {
      new CfnOutput(stack, 'WafWebAclName', { value: this.waf.webAclName });
      new CfnOutput(stack, 'WafLogGroupName', { value: this.waf.logGroup.logGroupName });
    }
  }
}

/**
 * Every ChatFunction under `scope` (all of the app's own Lambdas), named by
 * construct path, with the Cognito triggers and deploy-time steps in their own
 * dashboard sections. Lets the monitoring cover each Lambda whichever construct
 * created it.
 */
export function discoverChatFunctions(scope: IConstruct, overrides: ReadonlyMap<ChatFunction, Partial<MonitoredFunction>> = new Map()): MonitoredFunction[] {
  const found = scope.node.findAll().filter((c): c is ChatFunction => c instanceof ChatFunction);
  return found.map((fn) => {
    const path = fn.node.path.split('/').slice(1); // drop the stack
    const name = path
      .filter((p) => p !== 'Function' && p !== 'Handler')
      .join('-')
      .replace(/^Chat/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase();
    const section = isDeployTimeStep(fn.function) ? 'Deploy-time steps' : /PreTokenGeneration|UserProvisioner/.test(fn.node.path) ? 'Cognito triggers' : 'Lambda functions';
    return { name, function: fn.function, section, logGroup: fn.logGroup, ...overrides.get(fn) };
  });
}

/** A function behind a custom-resource provider: it runs only during deploys. */
function isDeployTimeStep(fn: lambda.IFunction): boolean {
  return Stack.of(fn)
    .node.findAll()
    .some((c) => c instanceof cr.Provider && (c.onEventHandler === fn || c.isCompleteHandler === fn));
}

/** The awslogs group of a service's main container, when it logs with the awslogs driver. */
function awslogsGroupName(service: ecs.FargateService): string | undefined {
  return service.taskDefinition.defaultContainer?.logDriverConfig?.options?.['awslogs-group'];
}

/** The properties a custom resource sends its handler (without ServiceToken), to replay an event by hand. */
export function customResourceProperties(resource: CustomResource): Record<string, unknown> {
  const cfn = resource.node.defaultChild as CfnResource;
  const raw = (cfn as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties ?? {};
  return Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'ServiceToken'));
}
