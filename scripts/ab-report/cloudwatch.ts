import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { AB_BACKENDS, AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE, AB_WINDOW_SECONDS, AbBackend } from '../../chat-domain/ab-metrics';

const DAY_SECONDS = 86_400;

/** How each daily figure is read: the metric, the statistic, and the period it is taken over before the day is formed. */
export interface AbMeasure {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly metric: string;
  readonly stat: string;
  /** 300: the 5-minute values are fetched and summed per day (duplicate-safe Maximum per window); 86400: one value per day. */
  readonly period: number;
  /** Only some backends publish it (link previews exist on Hasura Lite only). */
  readonly backends?: readonly AbBackend[];
}

export const AB_MEASURES: readonly AbMeasure[] = [
  { key: 'messages', label: 'messages per day', unit: 'messages', metric: AB_METRICS.messagesSent, stat: 'Maximum', period: AB_WINDOW_SECONDS },
  { key: 'senders', label: 'distinct senders per day', unit: 'senders', metric: AB_METRICS.distinctSendersToday, stat: 'Maximum', period: DAY_SECONDS },
  { key: 'rooms', label: 'active rooms per day', unit: 'rooms', metric: AB_METRICS.activeRoomsToday, stat: 'Maximum', period: DAY_SECONDS },
  { key: 'sendP50', label: 'send latency p50', unit: 'ms', metric: AB_METRICS.sendLatency, stat: 'p50', period: DAY_SECONDS },
  { key: 'sendP99', label: 'send latency p99', unit: 'ms', metric: AB_METRICS.sendLatency, stat: 'p99', period: DAY_SECONDS },
  { key: 'sendSamples', label: 'sends measured', unit: 'sends', metric: AB_METRICS.sendLatency, stat: 'SampleCount', period: DAY_SECONDS },
  { key: 'attempts', label: 'send requests', unit: 'requests', metric: AB_METRICS.sendAttempts, stat: 'Sum', period: AB_WINDOW_SECONDS },
  { key: 'errors', label: 'failed sends', unit: 'requests', metric: AB_METRICS.sendErrors, stat: 'Sum', period: AB_WINDOW_SECONDS },
  { key: 'mcpP99', label: 'MCP tool latency p99', unit: 'ms', metric: AB_METRICS.mcpToolLatency, stat: 'p99', period: DAY_SECONDS },
  { key: 'previewP50', label: 'link preview p50', unit: 'ms', metric: AB_METRICS.linkPreviewTime, stat: 'p50', period: DAY_SECONDS, backends: ['hasura-lite'] },
];

/** One value per UTC day (keyed YYYY-MM-DD) per measure and backend; a day without data is absent. */
export type AbDailySeries = Record<string, Record<AbBackend, Map<string, number>>>;

export interface AbWindow {
  /** Stack prefix, the `Environment` dimension (e.g. phenom-production). */
  readonly environment: string;
  /** Whole UTC days, ending with the last complete day before `now`. */
  readonly days: number;
  readonly now?: Date;
}

/** The report's time range: `days` whole UTC days before today, so every day compared is complete. */
export function reportRange(window: AbWindow): { start: Date; end: Date } {
  const now = window.now ?? new Date();
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start: new Date(end.getTime() - window.days * DAY_SECONDS * 1000), end };
}

const queryId = (m: AbMeasure, b: AbBackend) => `${m.key}_${b.replace(/-/g, '_')}`;

export function metricDataQueries(environment: string): MetricDataQuery[] {
  const queries: MetricDataQuery[] = [];
  for (const measure of AB_MEASURES) {
    for (const backend of measure.backends ?? AB_BACKENDS) {
      queries.push({
        Id: queryId(measure, backend),
        Label: `${measure.label} (${backend})`,
        MetricStat: {
          Metric: {
            Namespace: AB_NAMESPACE,
            MetricName: measure.metric,
            Dimensions: [
              { Name: AB_DIMENSIONS.environment, Value: environment },
              { Name: AB_DIMENSIONS.backend, Value: backend },
            ],
          },
          Period: measure.period,
          Stat: measure.stat,
        },
        ReturnData: true,
      });
    }
  }
  return queries;
}

const dayOf = (t: Date) => t.toISOString().slice(0, 10);

/**
 * Reads every measure for both backends with GetMetricData, following NextToken until each
 * result is Complete, and folds the 5-minute values into days. A result that stays
 * InternalError or Forbidden is an error naming the query, not a silently empty column.
 */
export async function fetchAbSeries(client: CloudWatchClient, window: AbWindow): Promise<AbDailySeries> {
  const { start, end } = reportRange(window);
  const queries = metricDataQueries(window.environment);
  const points = new Map<string, { t: Date; v: number }[]>();
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: nextToken }));
    for (const result of page.MetricDataResults ?? []) collect(points, result);
    nextToken = page.NextToken;
    // 30 days of 5-minute points for 9 series is ~78k values, under one page's 100,800; the cap only stops a loop on a broken token.
    if (++pages > 100) throw new Error('GetMetricData: more than 100 pages; refusing to loop on NextToken');
  } while (nextToken);

  const series: AbDailySeries = {};
  for (const measure of AB_MEASURES) {
    series[measure.key] = { matrix: new Map(), 'hasura-lite': new Map() };
    for (const backend of measure.backends ?? AB_BACKENDS) {
      const byDay = series[measure.key][backend];
      for (const { t, v } of points.get(queryId(measure, backend)) ?? []) {
        const day = dayOf(t);
        byDay.set(day, measure.period === AB_WINDOW_SECONDS ? (byDay.get(day) ?? 0) + v : v);
      }
    }
  }
  return series;
}

function collect(points: Map<string, { t: Date; v: number }[]>, result: MetricDataResult): void {
  const id = result.Id ?? '';
  if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
    const detail = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join('; ');
    throw new Error(`GetMetricData ${id}: ${result.StatusCode}${detail ? ` (${detail})` : ''}`);
  }
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  if (timestamps.length !== values.length) throw new Error(`GetMetricData ${id}: ${timestamps.length} timestamps but ${values.length} values`);
  const list = points.get(id) ?? [];
  timestamps.forEach((t, i) => list.push({ t, v: values[i] }));
  points.set(id, list);
}
