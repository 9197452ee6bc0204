import { AspectPriority, Aspects, CfnOutput, CfnResource, CustomResource, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ChatFunction } from '../constructs/chat-function';
import { ChatAlarmTopic } from './alarm-topic';
import { LambdaLogGroups } from './lambda-log-groups';
import { ChatMonitoring, MonitoredFunction, MonitoredService, pascal, PowertoolsMetricsSource } from './monitoring';
import { ChatLogQueries } from './queries';
import { SynapseHistoryPurge } from './synapse-history-purge';
import { ChatWaf } from './waf';
import { keepOnceCreated } from '../removal-policy';

export { ChatAlarmTopic } from './alarm-topic';
export { ChatMonitoring, METRICS_NAMESPACE } from './monitoring';
export type { MonitoredFunction, MonitoredService, PowertoolsMetricsSource } from './monitoring';
export { ChatLogQueries } from './queries';
export { chatRoomAliases, SynapseHistoryPurge } from './synapse-history-purge';
export { ALARM_THRESHOLDS } from './thresholds';
export { ChatWaf } from './waf';

export interface ChatOperationsProps {
  /** Names of the alarm topic, web ACL, dashboard, alarms and saved queries start with it. */
  readonly prefix: string;
  /** The environment's name, in the topic's display name, the web ACL's description and the dashboard's header. */
  readonly envName: string;
  /** The public domain, in the dashboard's header. */
  readonly domainName: string;
  /** How long the WAF logs and the log groups given to aws-cdk-lib's own functions keep events. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Whether those log groups and the alarm topic's key outlive the stack (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - they are deleted with the stack
   */
  readonly retainLogs?: boolean;
  /**
   * An operator's address, subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /** The ALB the services sit behind (created or imported): watched, and protected by the WAF. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The ECS cluster the services run in, for the Container Insights task counts. */
  readonly cluster: ecs.ICluster;
  /**
   * AWS WAF on the ALB, blocking a client IP above this many requests in 5 minutes (an imported ALB
   * must not already have a web ACL: a resource can carry only one).
   * @default - no WAF
   */
  readonly waf?: { readonly ratePerIpPer5Min: number; readonly clientIpHeader?: string };
  /**
   * The RDS instance to watch.
   * @default - no database section
   */
  readonly database?: rds.IDatabaseInstance;
  /**
   * Its instance class, for the connection-count threshold.
   * @default - ALARM_THRESHOLDS.rdsFallbackMaxConnections is the 100 % figure (an imported instance)
   */
  readonly databaseInstanceClass?: string;
  /**
   * Its allocated storage in GiB, for the free-storage threshold.
   * @default 20 (the RDS minimum)
   */
  readonly databaseAllocatedStorageGiB?: number;
  /** The ECS services to watch, with their target groups. */
  readonly services: readonly MonitoredService[];
  /** The Lambdas to watch (see `discoverChatFunctions`). The history purge is added here automatically. */
  readonly functions: readonly MonitoredFunction[];
  /**
   * The link-preview Lambda and its log group: its cache and upstream metrics, and a failures query.
   * @default - no link-preview cache/latency section and no link-preview failures query
   */
  readonly linkPreview?: PowertoolsMetricsSource & { readonly logGroup: logs.ILogGroup };
  /**
   * The Cognito post-authentication provisioner, whose ProvisioningFailed metric alarms.
   * @default - no provisioning-failure alarm
   */
  readonly userProvisioner?: PowertoolsMetricsSource;
  /**
   * The MCP server's log group, for the tool-call Logs Insights queries.
   * @default - no MCP Logs Insights queries
   */
  readonly mcpServerLogGroup?: logs.ILogGroup;
  /**
   * Builds the scheduled Synapse history purge in the scope and id given (SynapseHistoryPurge, with
   * the props the stack maps), so that it lives under this construct and is watched in its own section.
   * @default - no scheduled history purge
   */
  readonly historyPurge?: (scope: Construct, id: string) => SynapseHistoryPurge;
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
    const { prefix, envName, logRetention } = props;
    const retainLogs = props.retainLogs ?? false;

    this.alarmTopic = new ChatAlarmTopic(this, 'Alarms', { prefix, envName, alarmEmail: props.alarmEmail, retainKey: retainLogs });
    if (props.waf) {
      this.waf = new ChatWaf(this, 'Waf', {
        prefix,
        envName,
        ratePerIpPer5Min: props.waf.ratePerIpPer5Min,
        clientIpHeader: props.waf.clientIpHeader,
        logRetention,
        retainLogs,
        loadBalancerArn: props.loadBalancer.loadBalancerArn,
      });
    }
    this.historyPurge = props.historyPurge?.(this, 'SynapseHistoryPurge');
    this.queries = new ChatLogQueries(this, 'Queries', { prefix, mcpServerLogGroup: props.mcpServerLogGroup, linkPreviewLogGroup: props.linkPreview?.logGroup });

    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      prefix,
      envName,
      domainName: props.domainName,
      alarmTopic: this.alarmTopic.topic,
      loadBalancer: props.loadBalancer,
      clusterName: props.cluster.clusterName,
      services: props.services,
      database: props.database,
      databaseInstanceClass: props.databaseInstanceClass,
      databaseAllocatedStorageGiB: props.databaseAllocatedStorageGiB,
      functions: [
        ...props.functions.filter((f) => f.function !== this.historyPurge?.handler.function),
        ...(this.historyPurge ? [{ name: 'synapse-history-purge', function: this.historyPurge.handler.function, section: 'Scheduled maintenance', logGroup: this.historyPurge.handler.logGroup }] : []),
      ],
      linkPreview: props.linkPreview,
      userProvisioner: props.userProvisioner,
      webAcl: this.waf?.webAcl,
    });

    const stack = Stack.of(this);
    Aspects.of(stack).add(new LambdaLogGroups(logRetention, keepOnceCreated({ production: retainLogs })), {
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
