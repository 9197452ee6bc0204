import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AB_BACKENDS, AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE, AB_WINDOW_SECONDS, AbBackend } from '../../chat-domain/ab-metrics';
import { MCP_TOOL_ERROR_RATE_QUERY, MCP_TOOL_LATENCY_BY_TOOL_QUERY } from '../operations/queries';

export interface AbDashboardSectionProps {
  readonly dashboard: cloudwatch.Dashboard;
  /** The `Environment` dimension the collector publishes with. */
  readonly environment: string;
  readonly mcpServer: { readonly logGroup: logs.ILogGroup; readonly backend: AbBackend };
  /** @default - no Hasura send latency widget */
  readonly hasuraLogGroup?: logs.ILogGroup;
  /** @default - no link-preview widget */
  readonly linkPreviewLogGroup?: logs.ILogGroup;
}

/** The send mutation's operation name (docker/mcp-server/src/backend/hasura/documents.ts), as Hasura's http-log carries it. */
export const HASURA_SEND_OPERATION = 'SendMessage';

/**
 * Hasura's http-log for the send mutation (graphql-engine Hasura.Server.Logging: `detail.operation` has
 * `query_execution_time` in seconds and `error` only when it failed; GraphQL errors answer HTTP 200).
 */
export const HASURA_SEND_LATENCY_QUERY: logs.QueryStringProps = {
  fields: ['detail.operation.query_execution_time * 1000 as ms', 'ispresent(detail.operation.error) or detail.http_info.status >= 400 as failed'],
  filterStatements: [`type = "http-log" and detail.operation.query.operationName = "${HASURA_SEND_OPERATION}"`],
  statsStatements: ['pct(ms, 50) as p50, pct(ms, 99) as p99, 100 * sum(failed) / count(*) as errorPct by bin(5m)'],
};

/** Lambda's own JSON report line (loggingFormat JSON): one per invocation of the link-preview webhook. */
export const LINK_PREVIEW_TIME_QUERY: logs.QueryStringProps = {
  filterStatements: ['type = "platform.report"'],
  statsStatements: ['pct(record.metrics.durationMs, 50) as p50, pct(record.metrics.durationMs, 99) as p99 by bin(5m)'],
};

const WIDTH = 8;
const HEIGHT = 6;

/**
 * The A/B section of the operations dashboard: each figure side by side, one line per backend on the
 * same axes where both backends publish it (the collector's usage metrics); the latency sources that
 * exist only as logs are read with Logs Insights next to them.
 */
export class AbDashboardSection extends Construct {
  constructor(scope: Construct, id: string, props: AbDashboardSectionProps) {
    super(scope, id);
    const perBackend = (metricName: string, statistic: string, period: Duration, label: (b: AbBackend) => string) =>
      AB_BACKENDS.map(
        (backend) =>
          new cloudwatch.Metric({
            namespace: AB_NAMESPACE,
            metricName,
            dimensionsMap: { [AB_DIMENSIONS.environment]: props.environment, [AB_DIMENSIONS.backend]: backend },
            statistic,
            period,
            label: label(backend),
          }),
      );
    const window = Duration.seconds(AB_WINDOW_SECONDS);
    const perHour = 3600 / AB_WINDOW_SECONDS;
    // Maximum per window makes a retried run's duplicate harmless (chat-domain/ab-metrics.ts); the hourly rate scales it.
    const messagesPerHour = perBackend(AB_METRICS.messagesSent, 'Maximum', window, (b) => b).map(
      (m, i) => new cloudwatch.MathExpression({ expression: `${perHour} * m${i}`, usingMetrics: { [`m${i}`]: m }, period: window, label: AB_BACKENDS[i] }),
    );
    const graph = (title: string, left: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, leftYAxis: { min: 0 } });
    const query = (title: string, logGroup: logs.ILogGroup, q: logs.QueryStringProps, view: cloudwatch.LogQueryVisualizationType) =>
      new cloudwatch.LogQueryWidget({ title, logGroupNames: [logGroup.logGroupName], queryString: new logs.QueryString(q).toString(), view, width: WIDTH, height: HEIGHT });

    const widgets: cloudwatch.IWidget[] = [
      graph('A/B: messages per hour', messagesPerHour),
      graph(
        'A/B: distinct senders today',
        perBackend(AB_METRICS.distinctSendersToday, 'Maximum', Duration.hours(1), (b) => b),
      ),
      graph(
        'A/B: active rooms today',
        perBackend(AB_METRICS.activeRoomsToday, 'Maximum', Duration.hours(1), (b) => b),
      ),
      ...(props.hasuraLogGroup ? [query('A/B: hasura-lite send latency (ms) and error %', props.hasuraLogGroup, HASURA_SEND_LATENCY_QUERY, cloudwatch.LogQueryVisualizationType.LINE)] : []),
      query(`A/B: MCP tool latency (${props.mcpServer.backend})`, props.mcpServer.logGroup, MCP_TOOL_LATENCY_BY_TOOL_QUERY, cloudwatch.LogQueryVisualizationType.TABLE),
      query(`A/B: MCP tool errors (${props.mcpServer.backend})`, props.mcpServer.logGroup, MCP_TOOL_ERROR_RATE_QUERY, cloudwatch.LogQueryVisualizationType.TABLE),
      ...(props.linkPreviewLogGroup ? [query('A/B: link-preview time (ms, hasura-lite only)', props.linkPreviewLogGroup, LINK_PREVIEW_TIME_QUERY, cloudwatch.LogQueryVisualizationType.LINE)] : []),
    ];
    props.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## A/B evaluation: matrix vs hasura-lite (README, "Reading the A/B comparison")', width: 24, height: 1 }));
    for (let i = 0; i < widgets.length; i += 3) props.dashboard.addWidgets(new cloudwatch.Row(...widgets.slice(i, i + 3)));
  }
}
