import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AbBackend } from '../../chat-domain/ab-metrics';
import { AB_LOG_SOURCES } from '../../chat-domain/ab-log-sources';
import { AbCollector, AbCollectorProps } from './collector';
import { AbDashboardSection } from './dashboard';
import { AbLogMetrics } from './log-metrics';

export { AB_READER_ROLES, AbCollector } from './collector';
export type { AbCollectorProps } from './collector';
export { AbDashboardSection } from './dashboard';
export { AbLogMetrics } from './log-metrics';
export type { AbLogMetricsProps } from './log-metrics';
export type { AbDashboardSectionProps } from './dashboard';

export interface AbEvaluationProps extends AbCollectorProps {
  /** The MCP server's log group, and the backend it was deployed with (its tool calls count for that backend). */
  readonly mcpServer: { readonly logGroup: logs.ILogGroup; readonly backend: AbBackend };
  /** @default - no Hasura send latency (Hasura Lite is not deployed by this stack) */
  readonly hasuraLogGroup?: logs.ILogGroup;
  /** @default - no link-preview resolution time */
  readonly linkPreviewLogGroup?: logs.ILogGroup;
}

/** Issue #18: the collector and its reader roles, and the A/B section of the dashboard. */
export class AbEvaluation extends Construct {
  public readonly collector: AbCollector;
  public readonly logMetrics: AbLogMetrics;
  public dashboardSection?: AbDashboardSection;
  private readonly props: AbEvaluationProps;

  constructor(scope: Construct, id: string, props: AbEvaluationProps) {
    super(scope, id);
    this.collector = new AbCollector(this, 'Collector', props);
    this.logMetrics = new AbLogMetrics(this, 'LogMetrics', {
      prefix: props.prefix,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
      environment: props.environment,
      mcpBackend: props.mcpServer.backend,
      sources: [
        { logGroup: props.mcpServer.logGroup, source: AB_LOG_SOURCES.mcpTools },
        ...(props.hasuraLogGroup ? [{ logGroup: props.hasuraLogGroup, source: AB_LOG_SOURCES.hasuraSend }] : []),
        ...(props.linkPreviewLogGroup ? [{ logGroup: props.linkPreviewLogGroup, source: AB_LOG_SOURCES.linkPreview }] : []),
      ],
    });
    this.props = props;
  }

  /**
   * Adds the A/B section to the operations dashboard. Separate from the constructor because the
   * operations construct, which owns the dashboard, must see this construct's functions to alarm on them.
   */
  public addDashboardSection(dashboard: cloudwatch.Dashboard): AbDashboardSection {
    if (this.dashboardSection) throw new Error('AbEvaluation: the dashboard section was already added');
    this.dashboardSection = new AbDashboardSection(this, 'Dashboard', {
      dashboard,
      environment: this.props.environment,
      mcpBackend: this.props.mcpServer.backend,
      linkPreview: this.props.linkPreviewLogGroup !== undefined,
    });
    return this.dashboardSection;
  }
}
