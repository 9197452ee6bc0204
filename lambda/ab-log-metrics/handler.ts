import { gunzipSync } from 'node:zlib';
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsEvent, CloudWatchLogsDecodedData } from 'aws-lambda';
import { AB_DIMENSIONS, AbBackend } from '../../chat-domain/ab-metrics';
import { AB_LOG_SOURCES, abLogFilterName, AbLogDatum, AbLogSource, MalformedLogLine } from '../../chat-domain/ab-log-sources';
import { publish } from '../ab-collector/publish';

/** PutMetricData takes at most 150 distinct values per datum (CloudWatch API reference). */
const MAX_VALUES_PER_DATUM = 150;
/** Enough to see what changed; a whole batch of one broken format would say the same thing hundreds of times. */
const MAX_PROBLEMS = 5;

export interface LogMetricsDeps {
  readonly cloudWatch: CloudWatchClient;
  /** The `Environment` dimension: the stack prefix. */
  readonly environment: string;
  /** The backend the MCP server was deployed with: its tool calls count for it. */
  readonly mcpBackend: AbBackend;
}

export interface LogMetricsResult {
  readonly source: string;
  readonly lines: number;
  readonly data: number;
  /** Lines that were not JSON objects or lacked their fields (the pattern matched, so this means a changed log format). */
  readonly malformed: number;
  /**
   * The first few malformed lines, by log event id and what was wrong: never the line itself, which for a
   * failed Hasura request holds the request's variables (a message body).
   */
  readonly problems: readonly { readonly id: string; readonly reason: string }[];
}

/** One line's data, or why it has none. */
function lineData(source: AbLogSource, message: string): AbLogDatum[] | { malformed: string } {
  let line: unknown;
  try {
    line = JSON.parse(message);
  } catch {
    return { malformed: 'not JSON' };
  }
  if (!line || typeof line !== 'object' || Array.isArray(line)) return { malformed: 'not a JSON object' };
  try {
    return source.data(line as Record<string, unknown>);
  } catch (err) {
    if (err instanceof MalformedLogLine) return { malformed: err.message };
    throw err;
  }
}

const SOURCES = new Map<string, AbLogSource>(Object.values(AB_LOG_SOURCES).map((s) => [abLogFilterName(s), s]));

/**
 * One subscription delivery (a gzipped, base64 batch of the lines a filter matched) to Phenom/AB data:
 * raw values grouped per metric, dimensions and minute as Values/Counts, so CloudWatch's percentiles
 * are over every request, not over averages.
 */
export function createLogMetricsHandler(deps: LogMetricsDeps) {
  return async (event: CloudWatchLogsEvent): Promise<LogMetricsResult> => {
    const batch = JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;
    // CloudWatch Logs checks a new destination with a control message; it carries no log lines.
    if (batch.messageType === 'CONTROL_MESSAGE') return { source: 'control', lines: 0, data: 0, malformed: 0, problems: [] };
    const source = batch.subscriptionFilters.map((name) => SOURCES.get(name)).find((s) => s !== undefined);
    if (!source) throw new Error(`no A/B log source is named by the subscription filters ${JSON.stringify(batch.subscriptionFilters)} (of ${batch.logGroup})`);
    const backend = source.backend ?? deps.mcpBackend;

    const groups = new Map<string, { datum: Omit<MetricDatum, 'Values' | 'Counts'>; counts: Map<number, number> }>();
    let malformed = 0;
    const problems: { id: string; reason: string }[] = [];
    for (const logEvent of batch.logEvents) {
      const lineResult = lineData(source, logEvent.message);
      if (!Array.isArray(lineResult)) {
        malformed++;
        if (problems.length < MAX_PROBLEMS) problems.push({ id: logEvent.id, reason: lineResult.malformed });
        continue;
      }
      const minute = Math.floor(logEvent.timestamp / 60_000) * 60_000;
      for (const d of lineResult) {
        const dims = { [AB_DIMENSIONS.environment]: deps.environment, [AB_DIMENSIONS.backend]: backend, ...d.dimensions };
        const key = JSON.stringify([d.metric, d.unit, minute, Object.entries(dims).sort()]);
        let group = groups.get(key);
        if (!group) {
          group = {
            datum: { MetricName: d.metric, Unit: d.unit, Timestamp: new Date(minute), Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) },
            counts: new Map(),
          };
          groups.set(key, group);
        }
        group.counts.set(d.value, (group.counts.get(d.value) ?? 0) + 1);
      }
    }

    const data: MetricDatum[] = [];
    for (const { datum, counts } of groups.values()) {
      const entries = [...counts.entries()];
      for (let i = 0; i < entries.length; i += MAX_VALUES_PER_DATUM) {
        const chunk = entries.slice(i, i + MAX_VALUES_PER_DATUM);
        data.push({ ...datum, Values: chunk.map(([v]) => v), Counts: chunk.map(([, n]) => n) });
      }
    }
    if (data.length > 0) await publish(deps.cloudWatch, data);
    return { source: source.id, lines: batch.logEvents.length, data: data.length, malformed, problems };
  };
}
