import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { ALARM_THRESHOLDS as T, postgresMaxConnections } from './thresholds';

/** The namespace every Powertools metric of the app goes to (ChatFunction sets POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'PhenomChat';

export interface MonitoredService {
  /** A short name for the dashboard and alarm names, e.g. `synapse`. */
  readonly name: string;
  /** The service: CPU, memory and running-vs-desired tasks, with alarms. */
  readonly service: ecs.FargateService;
  /**
   * The ALB target group in front of the service.
   * @default - no request, 5xx or target-health widgets and alarms (CPU, memory and task count only)
   */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * The service's log group, published as a stack output for the runbook.
   * @default - no output
   */
  readonly logGroup?: logs.ILogGroup;
}

export interface MonitoredFunction {
  /** A short name for the dashboard and alarm names, e.g. `link-preview`. */
  readonly name: string;
  /** The function: invocations, errors, duration and throttles. */
  readonly function: lambda.IFunction;
  /**
   * Errors per 5 minutes above which the function alarms.
   * @default ALARM_THRESHOLDS.lambdaErrorsPer5Min (0: any error alarms)
   */
  readonly maxErrorsPer5Min?: number;
  /**
   * The dashboard section the function is shown in.
   * @default 'Lambda functions'
   */
  readonly section?: string;
  /**
   * The function's log group, published as a stack output for the runbook.
   * @default - no output
   */
  readonly logGroup?: logs.ILogGroup;
}

/** A function that publishes Powertools metrics, identified by its `service` dimension. */
export interface PowertoolsMetricsSource {
  /** The function that publishes them. */
  readonly function: lambda.Function;
  /**
   * The `service` dimension of its metrics.
   * @default - read from the function's POWERTOOLS_SERVICE_NAME environment variable
   */
  readonly serviceName?: string;
}

export interface ChatMonitoringProps {
  /** The dashboard's name, and the prefix of every alarm's name. */
  readonly prefix: string;
  /** The environment's name, in the dashboard's header. */
  readonly envName: string;
  /** The public domain, in the dashboard's header. */
  readonly domainName: string;
  /** Every alarm notifies this topic (and again when it returns to OK). */
  readonly alarmTopic: sns.ITopic;
  /** The ALB in front of the services: its totals, and the target groups' metrics. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The ECS services, each with its own section and alarms. */
  readonly services: readonly MonitoredService[];
  /** The ECS cluster name, for the Container Insights task-count metrics. */
  readonly clusterName: string;
  /**
   * The RDS instance: CPU, free storage and connections, each with an alarm.
   * @default - no database section
   */
  readonly database?: rds.IDatabaseInstance;
  /**
   * The instance class, for the connection-count threshold (80 % of max_connections).
   * @default - ALARM_THRESHOLDS.rdsFallbackMaxConnections is the 100 % figure
   */
  readonly databaseInstanceClass?: string;
  /**
   * Allocated storage in GiB, for the free-storage threshold (10 % of it).
   * @default 20 (the RDS minimum)
   */
  readonly databaseAllocatedStorageGiB?: number;
  /** The Lambdas, each with an errors alarm, grouped into their dashboard sections. */
  readonly functions: readonly MonitoredFunction[];
  /**
   * The link-preview Lambda: its cache hit rate and upstream (Phenom API) latency.
   * @default - no link-preview section
   */
  readonly linkPreview?: PowertoolsMetricsSource;
  /**
   * The Cognito post-authentication provisioner: an alarm on its ProvisioningFailed metric.
   * @default - no provisioning alarm
   */
  readonly userProvisioner?: PowertoolsMetricsSource;
  /**
   * The WAF web ACL in front of the ALB.
   * @default - no WAF section
   */
  readonly webAcl?: wafv2.CfnWebACL;
}

/**
 * One CloudWatch dashboard per environment (ALB, each ECS service, RDS, each
 * Lambda, link-preview cache, WAF) and the alarms of ALARM_THRESHOLDS, all sent
 * to the alarm topic. Built on cdk-monitoring-constructs; takes its pieces as
 * props, so it works whichever construct built them (or whether they are imported).
 */
export class ChatMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  /** The functions on the dashboard (and with an errors alarm). */
  public readonly functions: readonly MonitoredFunction[];
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    this.dashboardName = props.prefix;
    this.functions = props.functions;
    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: this.dashboardName,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
      detailDashboardRange: Duration.hours(8),
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.prefix,
        actionsEnabled: true,
        // OK notifications too, so whoever got paged learns when it cleared.
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic, onOkTopic: props.alarmTopic }),
        runbookLink: 'docs/operations.md#alarms',
      },
      metricFactoryDefaults: {},
      dashboardFactory: dashboards,
    });
    this.dashboard = dashboards.dashboard!;

    this.facade.addLargeHeader(`Phenom chat ${props.envName} (${props.domainName})`);
    this.monitorLoadBalancer(props);
    for (const s of props.services) this.monitorService(props, s);
    if (props.database) this.monitorDatabase(props, props.database);
    this.monitorFunctions(props.functions);
    if (props.linkPreview) this.monitorLinkPreview(props.linkPreview);
    if (props.userProvisioner) this.monitorProvisioner(props.userProvisioner);
    if (props.webAcl) this.facade.monitorWebApplicationFirewallAclV2({ acl: props.webAcl, region: Stack.of(this).region, humanReadableName: 'WAF (ALB web ACL)' });
  }

  /** ALB totals plus, per target group, requests, 5xx, response time and the 5xx-rate alarm. */
  private monitorLoadBalancer(props: ChatMonitoringProps): void {
    const alb = props.loadBalancer.metrics;
    const fiveMin = Duration.minutes(T.target5xxRate.periodMinutes);
    const withTargets = props.services.filter((s) => s.targetGroup);
    this.facade.monitorCustom({
      humanReadableName: 'Load balancer',
      alarmFriendlyName: 'Alb',
      metricGroups: [
        {
          title: 'Requests',
          metrics: [
            alb.requestCount({ period: fiveMin, statistic: 'Sum', label: 'all requests' }),
            ...withTargets.map((s) => s.targetGroup!.metrics.requestCount({ period: fiveMin, statistic: 'Sum', label: s.name })),
          ],
        },
        {
          title: '5xx (ALB and per target group)',
          metrics: [
            alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMin, statistic: 'Sum', label: 'ALB 5xx' }),
            ...withTargets.map((s) => s.targetGroup!.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMin, statistic: 'Sum', label: `${s.name} 5xx` })),
          ],
        },
        {
          title: '4xx (ALB and per target group)',
          metrics: [
            alb.httpCodeElb(elbv2.HttpCodeElb.ELB_4XX_COUNT, { period: fiveMin, statistic: 'Sum', label: 'ALB 4xx' }),
            ...withTargets.map((s) => s.targetGroup!.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { period: fiveMin, statistic: 'Sum', label: `${s.name} 4xx` })),
          ],
        },
        {
          title: 'Target response time p90 (s)',
          metrics: withTargets.map((s) => s.targetGroup!.metrics.targetResponseTime({ period: fiveMin, statistic: 'p90', label: s.name })),
        },
        ...withTargets.map((s) => ({
          title: `${s.name} target 5xx rate (%)`,
          metrics: [
            {
              metric: this.target5xxRate(s.targetGroup!, s.name),
              alarmFriendlyName: `${pascal(s.name)}Target5xxRate`,
              addAlarm: {
                Critical: {
                  threshold: T.target5xxRate.percent,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  evaluationPeriods: T.target5xxRate.evaluationPeriods,
                  datapointsToAlarm: T.target5xxRate.evaluationPeriods,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                  additionalDescription: `More than ${T.target5xxRate.percent}% of ${s.name}'s requests answered 5xx for ${T.target5xxRate.evaluationPeriods * T.target5xxRate.periodMinutes} minutes.`,
                },
              },
            },
          ],
        })),
      ],
    });
  }

  /** 100 × 5xx / requests, or 0 when the period had too few requests to mean anything. */
  private target5xxRate(targetGroup: elbv2.IApplicationTargetGroup, name: string): cloudwatch.MathExpression {
    const period = Duration.minutes(T.target5xxRate.periodMinutes);
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${T.target5xxRate.minRequests}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: {
        errors: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' }),
        requests: targetGroup.metrics.requestCount({ period, statistic: 'Sum' }),
      },
      period,
      label: `${name} 5xx %`,
    });
  }

  private monitorService(props: ChatMonitoringProps, s: MonitoredService): void {
    const common = { humanReadableName: `ECS service: ${s.name}`, alarmFriendlyName: pascal(s.name) };
    if (s.targetGroup) {
      this.facade.monitorFargateApplicationLoadBalancer({
        ...common,
        fargateService: s.service,
        applicationLoadBalancer: props.loadBalancer,
        applicationTargetGroup: s.targetGroup,
        // Minimum over the minute: a target that was unhealthy for the whole minute.
        invertLoadBalancerTaskCountMetricsStatistics: true,
        addUnhealthyTaskCountAlarm: {
          Critical: {
            maxUnhealthyTasks: T.unhealthyHosts.max,
            period: Duration.minutes(T.unhealthyHosts.periodMinutes),
            evaluationPeriods: T.unhealthyHosts.datapoints,
            datapointsToAlarm: T.unhealthyHosts.datapoints,
          },
        },
      });
    } else {
      this.facade.monitorSimpleFargateService({ ...common, fargateService: s.service });
    }

    // Container Insights publishes both counts per service every minute.
    const period = Duration.minutes(T.runningBelowDesired.periodMinutes);
    const dims = { ClusterName: props.clusterName, ServiceName: s.service.serviceName };
    const count = (metricName: string) => new cloudwatch.Metric({ namespace: 'ECS/ContainerInsights', metricName, dimensionsMap: dims, period, statistic: 'Average' });
    this.facade.monitorCustom({
      humanReadableName: `${s.name}: running vs desired tasks`,
      alarmFriendlyName: `${pascal(s.name)}Tasks`,
      metricGroups: [
        {
          title: `${s.name} tasks`,
          metrics: [
            count('DesiredTaskCount').with({ label: 'desired' }),
            count('RunningTaskCount').with({ label: 'running' }),
            {
              metric: new cloudwatch.MathExpression({
                expression: 'FILL(desired, 0) - FILL(running, 0)',
                usingMetrics: { desired: count('DesiredTaskCount'), running: count('RunningTaskCount') },
                period,
                label: 'desired - running',
              }),
              alarmFriendlyName: `${pascal(s.name)}RunningBelowDesired`,
              addAlarm: {
                Critical: {
                  threshold: 0,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  evaluationPeriods: T.runningBelowDesired.evaluationPeriods,
                  datapointsToAlarm: T.runningBelowDesired.evaluationPeriods,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.BREACHING,
                  additionalDescription: `${s.name} has run fewer tasks than desired for ${T.runningBelowDesired.evaluationPeriods} minutes.`,
                },
              },
            },
          ],
        },
      ],
    });
  }

  private monitorDatabase(props: ChatMonitoringProps, instance: rds.IDatabaseInstance): void {
    const maxConnections = postgresMaxConnections(props.databaseInstanceClass);
    const allocatedBytes = (props.databaseAllocatedStorageGiB ?? 20) * 1024 ** 3;
    const storagePeriods = {
      period: Duration.minutes(T.rdsFreeStoragePercent.periodMinutes),
      evaluationPeriods: T.rdsFreeStoragePercent.evaluationPeriods,
      datapointsToAlarm: T.rdsFreeStoragePercent.evaluationPeriods,
    };
    this.facade.monitorRdsInstance({
      instance,
      humanReadableName: 'RDS PostgreSQL',
      alarmFriendlyName: 'Rds',
      addCpuUsageAlarm: {
        Critical: {
          maxUsagePercent: T.rdsCpuPercent.max,
          period: Duration.minutes(T.rdsCpuPercent.periodMinutes),
          evaluationPeriods: T.rdsCpuPercent.evaluationPeriods,
          datapointsToAlarm: T.rdsCpuPercent.evaluationPeriods,
        },
      },
      addFreeStorageSpaceAlarm: { Critical: { minCount: Math.floor((allocatedBytes * T.rdsFreeStoragePercent.min) / 100), ...storagePeriods } },
      addMaxConnectionCountAlarm: {
        Critical: {
          maxConnectionCount: Math.floor((maxConnections * T.rdsConnectionsPercentOfMax.max) / 100),
          period: Duration.minutes(T.rdsConnectionsPercentOfMax.periodMinutes),
          evaluationPeriods: T.rdsConnectionsPercentOfMax.evaluationPeriods,
          datapointsToAlarm: T.rdsConnectionsPercentOfMax.evaluationPeriods,
        },
      },
    });
  }

  private monitorFunctions(functions: readonly MonitoredFunction[]): void {
    const sections = [...new Set(functions.map((f) => f.section ?? 'Lambda functions'))];
    for (const section of sections) {
      this.facade.addMediumHeader(section);
      for (const f of functions.filter((fn) => (fn.section ?? 'Lambda functions') === section)) {
        this.facade.monitorLambdaFunction({
          lambdaFunction: f.function,
          humanReadableName: `Lambda: ${f.name}`,
          alarmFriendlyName: `${pascal(f.name)}Lambda`,
          addFaultCountAlarm: {
            Critical: { maxErrorCount: f.maxErrorsPer5Min ?? T.lambdaErrorsPer5Min, period: Duration.minutes(5), evaluationPeriods: 1, datapointsToAlarm: 1 },
          },
        });
      }
    }
  }

  private monitorLinkPreview(source: PowertoolsMetricsSource): void {
    const metric = powertoolsMetric(source);
    const period = Duration.minutes(5);
    this.facade.monitorCustom({
      humanReadableName: 'Link preview: cache and Phenom API',
      alarmFriendlyName: 'LinkPreview',
      metricGroups: [
        {
          title: 'Cache hit rate (%)',
          metrics: [
            new cloudwatch.MathExpression({
              expression: 'IF(hit + miss > 0, 100 * hit / (hit + miss), 0)',
              usingMetrics: { hit: metric('CacheHit', 'Sum', period), miss: metric('CacheMiss', 'Sum', period) },
              period,
              label: 'hit rate %',
            }),
          ],
        },
        {
          title: 'Phenom API (upstream) latency (ms)',
          metrics: [
            metric('UpstreamLatency', 'p50', period).with({ label: 'p50' }),
            metric('UpstreamLatency', 'p90', period).with({ label: 'p90' }),
            metric('UpstreamLatency', 'Maximum', period).with({ label: 'max' }),
          ],
        },
        {
          title: 'Outcomes',
          metrics: ['CacheHit', 'CacheMiss', 'UpstreamFailure', 'UnknownPhenom', 'InvalidPayload', 'Unauthorized', 'InternalError'].map((m) => metric(m, 'Sum', period).with({ label: m })),
        },
      ],
    });
  }

  private monitorProvisioner(source: PowertoolsMetricsSource): void {
    const metric = powertoolsMetric(source);
    const period = Duration.minutes(5);
    this.facade.monitorCustom({
      humanReadableName: 'User provisioning (Cognito post-authentication)',
      alarmFriendlyName: 'Provisioning',
      metricGroups: [
        {
          title: 'Provisioning failures',
          metrics: [
            {
              metric: metric('ProvisioningFailed', 'Sum', period).with({ label: 'ProvisioningFailed' }),
              alarmFriendlyName: 'ProvisioningFailed',
              addAlarm: {
                Critical: {
                  threshold: T.provisioningFailuresPer5Min,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  evaluationPeriods: 1,
                  datapointsToAlarm: 1,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                  additionalDescription: 'A user signed in but the provisioner could not give them their chat memberships.',
                },
              },
            },
            metric('ProvisioningMalformedEvent', 'Sum', period).with({ label: 'ProvisioningMalformedEvent' }),
          ],
        },
      ],
    });
  }
}

export const pascal = (name: string) => name.replace(/(^|[-_ ])(\w)/g, (_m, _s, c: string) => c.toUpperCase());

/** A metric a Powertools Metrics instance of this function publishes (namespace PhenomChat, dimension service). */
function powertoolsMetric(source: PowertoolsMetricsSource) {
  const service = source.serviceName ?? powertoolsServiceName(source.function);
  return (metricName: string, statistic: string, period: Duration) => new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period });
}

/** The POWERTOOLS_SERVICE_NAME a function was given (ChatFunction derives it from the construct id). */
export function powertoolsServiceName(fn: lambda.Function): string {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const env = Stack.of(fn).resolve(cfn.environment) as { variables?: Record<string, unknown>; Variables?: Record<string, unknown> } | undefined;
  const name = (env?.variables ?? env?.Variables)?.POWERTOOLS_SERVICE_NAME;
  if (typeof name !== 'string') throw new Error(`${fn.node.path}: no POWERTOOLS_SERVICE_NAME in its environment; pass serviceName`);
  return name;
}
