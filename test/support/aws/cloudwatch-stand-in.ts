import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A stand-in for CloudWatch's PutMetricData and GetMetricData on 127.0.0.1, speaking the AWS JSON 1.0
 * protocol the SDK uses for CloudWatch (POST /, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
 * timestamps as epoch seconds; PutMetricData bodies may arrive gzip-compressed). Shaped after the
 * CloudWatch API reference:
 * - GetMetricData: 1–500 queries, `Id` matching `^[a-z][a-zA-Z0-9_]*$` and unique, `MetricStat` only
 *   (metric math is refused here, loudly), `Period` 1/5/10/20/30/60 or a multiple of 60, StartTime before
 *   EndTime, `ScanBy` defaulting to TimestampDescending, at most `MaxDatapoints` (default 100,800) per
 *   response with the rest behind `NextToken` (StatusCode PartialData); a datapoint is returned only for a
 *   period that has data. Statistics: SampleCount, Sum, Average, Minimum, Maximum and pNN (exact, over
 *   the raw values; CloudWatch's own percentiles are estimates of the same).
 * - PutMetricData: at most 1000 data per call; a namespace may not start with "AWS/"; each datum has
 *   `Value`, `Values` (+ optional `Counts` of the same length, at most 150), or `StatisticValues`
 *   (percentiles are then unavailable, as CloudWatch says).
 * A metric is identified by namespace, name and its exact set of dimensions, as in CloudWatch.
 */
export interface CloudWatchStandIn {
  readonly url: string;
  /** Every GetMetricData request body, in order. */
  readonly getRequests: Record<string, unknown>[];
  /** Adds raw values, as PutMetricData would. */
  put(datum: StoredDatum): void;
  close(): Promise<void>;
}

export interface StoredDatum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly timestamp: Date;
  /** Raw values (each with its count); empty when only statistic values were sent. */
  readonly values: readonly { value: number; count: number }[];
  readonly statisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
}

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const ID = /^[a-z][a-zA-Z0-9_]*$/;
const DEFAULT_MAX_DATAPOINTS = 100_800;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const metricKey = (namespace: string, name: string, dims: Record<string, string>) => JSON.stringify([namespace, name, Object.entries(dims).sort(([a], [b]) => a.localeCompare(b))]);

function statistic(stat: string, data: readonly StoredDatum[]): number | undefined {
  const raw = data.flatMap((d) => d.values);
  const stats = data.filter((d) => d.statisticValues).map((d) => d.statisticValues!);
  const count = raw.reduce((a, v) => a + v.count, 0) + stats.reduce((a, s) => a + s.SampleCount, 0);
  if (count === 0) return undefined;
  const sum = raw.reduce((a, v) => a + v.value * v.count, 0) + stats.reduce((a, s) => a + s.Sum, 0);
  const mins = [...raw.map((v) => v.value), ...stats.map((s) => s.Minimum)];
  const maxs = [...raw.map((v) => v.value), ...stats.map((s) => s.Maximum)];
  switch (stat) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return sum / count;
    case 'Minimum':
      return Math.min(...mins);
    case 'Maximum':
      return Math.max(...maxs);
  }
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new ApiError(400, 'InvalidParameterValue', `The value ${stat} for parameter MetricDataQueries.member.1.MetricStat.Stat is not supported.`);
  // Percentiles need raw values: data sent as StatisticValues carry none (CloudWatch returns nothing then).
  if (stats.length > 0 || raw.length === 0) return undefined;
  const sorted = raw.flatMap((v) => Array<number>(v.count).fill(v.value)).sort((a, b) => a - b);
  const rank = Math.ceil((Number(p[1]) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

async function readRaw(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
}

export interface CloudWatchStandInOptions {
  /** Caps every response below the API's own 100,800 points, so a test can make the client follow NextToken. */
  readonly maxDatapointsPerResponse?: number;
}

export async function startCloudWatchStandIn(options: CloudWatchStandInOptions = {}): Promise<CloudWatchStandIn> {
  const store = new Map<string, StoredDatum[]>();
  const getRequests: Record<string, unknown>[] = [];
  const put = (d: StoredDatum) => {
    const key = metricKey(d.namespace, d.metricName, d.dimensions);
    store.set(key, [...(store.get(key) ?? []), d]);
  };

  const putMetricData = (body: Record<string, unknown>) => {
    const namespace = body.Namespace;
    if (typeof namespace !== 'string' || !namespace) throw new ApiError(400, 'MissingParameter', 'The parameter Namespace is required.');
    if (namespace.startsWith('AWS/')) throw new ApiError(400, 'InvalidParameterValue', 'The value AWS/ for parameter Namespace is invalid.');
    const data = body.MetricData as Record<string, unknown>[] | undefined;
    if (!Array.isArray(data) || data.length === 0) throw new ApiError(400, 'MissingParameter', 'The parameter MetricData is required.');
    if (data.length > 1000) throw new ApiError(400, 'InvalidParameterValue', 'The collection MetricData must not have a size greater than 1000.');
    const parsed = data.map((d, i): StoredDatum => {
      const at = `MetricData.member.${i + 1}`;
      if (typeof d.MetricName !== 'string') throw new ApiError(400, 'MissingParameter', `The parameter ${at}.MetricName is required.`);
      const values = d.Values as number[] | undefined;
      const counts = d.Counts as number[] | undefined;
      if (values && values.length > 150) throw new ApiError(400, 'InvalidParameterValue', `The collection ${at}.Values must not have a size greater than 150.`);
      if (counts && (!values || counts.length !== values.length)) throw new ApiError(400, 'InvalidParameterCombination', `The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
      const given = [d.Value !== undefined, values !== undefined, d.StatisticValues !== undefined].filter(Boolean).length;
      if (given !== 1)
        throw new ApiError(400, 'InvalidParameterCombination', `The parameters ${at}.Value, ${at}.Values and ${at}.StatisticValues are mutually exclusive and you must specify one of them.`);
      const dims = Object.fromEntries(((d.Dimensions as { Name: string; Value: string }[] | undefined) ?? []).map((x) => [x.Name, x.Value]));
      const timestamp = d.Timestamp === undefined ? new Date() : new Date(Number(d.Timestamp) * 1000);
      return {
        namespace,
        metricName: d.MetricName,
        dimensions: dims,
        timestamp,
        values: d.Value !== undefined ? [{ value: Number(d.Value), count: 1 }] : (values ?? []).map((value, k) => ({ value, count: counts?.[k] ?? 1 })),
        statisticValues: d.StatisticValues as StoredDatum['statisticValues'],
      };
    });
    // The whole call is refused or stored: nothing half-written.
    parsed.forEach(put);
    return {};
  };

  const getMetricData = (body: Record<string, unknown>) => {
    getRequests.push(body);
    const queries = body.MetricDataQueries as Record<string, unknown>[] | undefined;
    if (!Array.isArray(queries) || queries.length === 0) throw new ApiError(400, 'MissingParameter', 'The parameter MetricDataQueries is required.');
    if (queries.length > 500) throw new ApiError(400, 'InvalidParameterValue', 'The collection MetricDataQueries must not have a size greater than 500.');
    const start = Number(body.StartTime);
    const end = Number(body.EndTime);
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw new ApiError(400, 'MissingParameter', 'The parameters StartTime and EndTime are required.');
    if (start >= end) throw new ApiError(400, 'ValidationError', 'The parameter StartTime must be less than the parameter EndTime.');
    const ids = new Set<string>();
    const series = queries.map((q, i) => {
      const at = `MetricDataQueries.member.${i + 1}`;
      const id = String(q.Id ?? '');
      if (!ID.test(id))
        throw new ApiError(400, 'ValidationError', `The value ${id} for parameter ${at}.Id is not valid: it must start with a lowercase letter and contain only letters, digits and underscores.`);
      if (ids.has(id)) throw new ApiError(400, 'ValidationError', `The values for parameter id in MetricDataQueries are not unique.`);
      ids.add(id);
      if (q.Expression !== undefined) throw new ApiError(400, 'ValidationError', `${at}.Expression: metric math is not implemented by this stand-in`);
      const ms = q.MetricStat as { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] }; Period: number; Stat: string } | undefined;
      if (!ms) throw new ApiError(400, 'ValidationError', `${at}: exactly one of MetricStat and Expression must be given.`);
      const period = ms.Period;
      if (!Number.isInteger(period) || period < 1 || (period > 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30, 60].includes(period))) {
        throw new ApiError(400, 'InvalidParameterValue', `The parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30, 60, or any multiple of 60.`);
      }
      const dims = Object.fromEntries((ms.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const data = (store.get(metricKey(ms.Metric.Namespace, ms.Metric.MetricName, dims)) ?? []).filter((d) => d.timestamp.getTime() / 1000 >= start && d.timestamp.getTime() / 1000 < end);
      const buckets = new Map<number, StoredDatum[]>();
      for (const d of data) {
        const t = start + Math.floor((d.timestamp.getTime() / 1000 - start) / period) * period;
        buckets.set(t, [...(buckets.get(t) ?? []), d]);
      }
      const points = [...buckets]
        .map(([t, ds]) => [t, statistic(ms.Stat, ds)] as const)
        .filter((p): p is readonly [number, number] => p[1] !== undefined)
        .sort((a, b) => (body.ScanBy === 'TimestampAscending' ? a[0] - b[0] : b[0] - a[0]));
      return { id, label: String(q.Label ?? ms.Metric.MetricName), points, returnData: q.ReturnData !== false };
    });

    // NextToken: how many points of the flattened result were already returned.
    let offset = 0;
    if (body.NextToken !== undefined) {
      const m = /^stand-in-(\d+)$/.exec(String(body.NextToken));
      if (!m) throw new ApiError(400, 'InvalidNextToken', 'The service cannot accept the NextToken.');
      offset = Number(m[1]);
    }
    const maxPoints = Math.min(Number(body.MaxDatapoints ?? DEFAULT_MAX_DATAPOINTS), options.maxDatapointsPerResponse ?? DEFAULT_MAX_DATAPOINTS);
    let skip = offset;
    let budget = maxPoints;
    let truncated = false;
    const results = series
      .filter((s) => s.returnData)
      .map((s) => {
        const from = Math.min(skip, s.points.length);
        skip -= from;
        const take = s.points.slice(from, from + budget);
        budget -= take.length;
        const complete = from + take.length === s.points.length;
        if (!complete) truncated = true;
        return { Id: s.id, Label: s.label, Timestamps: take.map((p) => p[0]), Values: take.map((p) => p[1]), StatusCode: complete ? 'Complete' : 'PartialData', Messages: [] };
      });
    const returned = results.reduce((a, r) => a + r.Values.length, 0);
    return { MetricDataResults: results, Messages: [], ...(truncated ? { NextToken: `stand-in-${offset + returned}` } : {}) };
  };

  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown, type?: string) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...(type ? { 'x-amzn-query-error': `${type};Sender` } : {}) });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) throw new ApiError(400, 'UnknownOperationException', `unsupported ${req.method} ${target}`);
        if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) throw new ApiError(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
        const raw = await readRaw(req);
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          throw new ApiError(400, 'SerializationException', 'The request body is not valid JSON');
        }
        const op = target.slice(TARGET_PREFIX.length);
        if (op === 'GetMetricData') return reply(200, getMetricData(body));
        if (op === 'PutMetricData') return reply(200, putMetricData(body));
        throw new ApiError(400, 'UnknownOperationException', `the stand-in does not implement ${op}`);
      } catch (err) {
        if (err instanceof ApiError) return reply(err.status, { __type: err.type, message: err.message }, err.type);
        reply(500, { __type: 'InternalServiceError', message: String(err) }, 'InternalServiceError');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    getRequests,
    put,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
