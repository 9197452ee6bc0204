import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AbBackend } from '../../chat-domain/ab-metrics';
import { AbCollector, AbCollectorProps } from './collector';
import { AbDashboardSection } from './dashboard';

export { AB_READER_ROLES, AbCollector } from './collector';
export type { AbCollectorProps } from './collector';
export { AbDashboardSection } from './dashboard';
export type { AbDashboardSectionProps } from './dashboard';

export interface AbEvaluationProps extends AbCollectorProps {
  /** The operations dashboard the A/B section is added to. */
  readonly dashboard: cloudwatch.Dashboard;
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
  public readonly dashboardSection: AbDashboardSection;

  constructor(scope: Construct, id: string, props: AbEvaluationProps) {
    super(scope, id);
    this.collector = new AbCollector(this, 'Collector', props);
    this.dashboardSection = new AbDashboardSection(this, 'Dashboard', {
      dashboard: props.dashboard,
      environment: props.environment,
      mcpServer: props.mcpServer,
      hasuraLogGroup: props.hasuraLogGroup,
      linkPreviewLogGroup: props.linkPreviewLogGroup,
    });
  }
}
