import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AB_BACKENDS, AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE, AB_WINDOW_SECONDS, AbBackend } from '../../chat-domain/ab-metrics';

export interface AbDashboardSectionProps {
  readonly dashboard: cloudwatch.Dashboard;
  /** The `Environment` dimension every A/B metric carries. */
  readonly environment: string;
  /** The backend the MCP server was deployed with (its tool calls are that backend's). */
  readonly mcpBackend: AbBackend;
  /** @default true - the link-preview widget (Hasura Lite only) */
  readonly linkPreview?: boolean;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * The A/B section of the operations dashboard: each figure in its own graph, one line per backend on
 * the same axes, read from Phenom/AB (chat-domain/ab-metrics.ts) as the collector and ab-log-metrics publish it.
 */
export class AbDashboardSection extends Construct {
  constructor(scope: Construct, id: string, props: AbDashboardSectionProps) {
    super(scope, id);
    const window = Duration.seconds(AB_WINDOW_SECONDS);
    const metric = (metricName: string, backend: AbBackend, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: AB_NAMESPACE,
        metricName,
        dimensionsMap: { [AB_DIMENSIONS.environment]: props.environment, [AB_DIMENSIONS.backend]: backend },
        statistic,
        period,
        label: backend,
      });
    const perBackend = (metricName: string, statistic: string, period: Duration) => AB_BACKENDS.map((b) => metric(metricName, b, statistic, period));
    const expression = (expr: string, using: Record<string, cloudwatch.IMetric>, label: string) => new cloudwatch.MathExpression({ expression: expr, usingMetrics: using, period: window, label });
    const graph = (title: string, left: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, leftYAxis: { min: 0 } });
    const key = (b: AbBackend) => b.replace(/-/g, '_');

    // Maximum per window makes a retried collector run harmless (ab-metrics.ts); 12 windows make an hour.
    const messagesPerHour = AB_BACKENDS.map((b) => expression(`${3600 / AB_WINDOW_SECONDS} * m_${key(b)}`, { [`m_${key(b)}`]: metric(AB_METRICS.messagesSent, b, 'Maximum', window) }, b));
    const errorRate = AB_BACKENDS.map((b) =>
      expression(
        `IF(a_${key(b)} > 0, 100 * e_${key(b)} / a_${key(b)}, 0)`,
        { [`a_${key(b)}`]: metric(AB_METRICS.sendAttempts, b, 'Sum', window), [`e_${key(b)}`]: metric(AB_METRICS.sendErrors, b, 'Sum', window) },
        b,
      ),
    );
    // Per tool: a SEARCH over the Tool dimension, so a new tool gets its line without a deploy.
    const toolSearch = (metricName: string, statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${AB_NAMESPACE},${AB_DIMENSIONS.environment},${AB_DIMENSIONS.backend},${AB_DIMENSIONS.tool}} MetricName="${metricName}" ${AB_DIMENSIONS.environment}="${props.environment}"', '${statistic}', ${AB_WINDOW_SECONDS})`,
        period: window,
      });

    const widgets: cloudwatch.IWidget[] = [
      graph('A/B: messages per hour', messagesPerHour),
      graph('A/B: distinct senders today', perBackend(AB_METRICS.distinctSendersToday, 'Maximum', Duration.hours(1))),
      graph('A/B: active rooms today', perBackend(AB_METRICS.activeRoomsToday, 'Maximum', Duration.hours(1))),
      graph('A/B: send latency p50 (ms)', perBackend(AB_METRICS.sendLatency, 'p50', window)),
      graph('A/B: send latency p99 (ms)', perBackend(AB_METRICS.sendLatency, 'p99', window)),
      graph('A/B: send error rate (%)', errorRate),
      graph(`A/B: MCP tool latency p99 (ms, ${props.mcpBackend})`, [toolSearch(AB_METRICS.mcpToolLatency, 'p99')]),
      graph(`A/B: MCP tool error rate (%, ${props.mcpBackend})`, [toolSearch(AB_METRICS.mcpToolErrors, 'Average')]),
      ...(props.linkPreview === false
        ? []
        : [
            graph('A/B: link-preview time (ms, hasura-lite only)', [
              metric(AB_METRICS.linkPreviewTime, 'hasura-lite', 'p50', window).with({ label: 'p50' }),
              metric(AB_METRICS.linkPreviewTime, 'hasura-lite', 'p99', window).with({ label: 'p99' }),
            ]),
          ]),
    ];
    props.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## A/B evaluation: matrix vs hasura-lite (README, "Reading the A/B comparison")', width: 24, height: 1 }));
    for (let i = 0; i < widgets.length; i += 3) props.dashboard.addWidgets(new cloudwatch.Row(...widgets.slice(i, i + 3)));
  }
}
