// From Synapse's exposition to the A/B send figures (chat-domain/ab-metrics.ts: SendAttempts, SendErrors,
// SendLatency in Phenom/AB, dimensions Environment and Backend=matrix).
//
// What Synapse exposes (synapse/http/request_metrics.py, 1.67 and 1.142 alike): the histogram
// synapse_http_server_response_time_seconds with labels method, servlet, tag and code (1.142 adds
// server_name). Message sends are servlet RoomSendEventRestServlet: PUT .../send/{type}/{txnId}, and POST
// .../send/{type} (register_txn_path registers both under the class name). synapse_http_server_responses_total
// counts by code too, but without a servlet label, so it cannot tell sends from /sync; the histogram's
// own code label gives the errors of sends alone.

export const HISTOGRAM = 'synapse_http_server_response_time_seconds';
export const SEND_SERVLET = 'RoomSendEventRestServlet';
export const SEND_METHODS = new Set(['PUT', 'POST']);
/** prometheus_client's own gauge: it changes when Synapse restarts, which resets every counter. */
const START_TIME = 'process_start_time_seconds';

export const NAMESPACE = 'Phenom/AB';
export const BACKEND = 'matrix';
export const METRIC_NAMES = { attempts: 'SendAttempts', errors: 'SendErrors', latency: 'SendLatency' };
/** PutMetricData takes at most 150 distinct values per datum (CloudWatch API reference, MetricDatum). */
const MAX_VALUES = 150;

/**
 * A failed send is one the server failed (5xx) or refused for load (429, M_LIMIT_EXCEEDED). Other 4xx are
 * the caller's mistakes (not in the room, bad event content) answered correctly, as for the MCP tools.
 */
export const isSendError = (code) => /^\d{3}$/.test(code) && (Number(code) >= 500 || Number(code) === 429);

/**
 * The send histogram's series in one parsed exposition: per label set (le aside) its cumulative bucket
 * counts by upper bound. `present` says whether Synapse declared the histogram at all (it declares it
 * with no series until the first request is timed).
 */
export function sendSeries({ samples, types }) {
  const series = new Map();
  let startTime;
  for (const s of samples) {
    if (s.name === START_TIME) startTime = s.value;
    if (s.name !== `${HISTOGRAM}_bucket` || s.labels.servlet !== SEND_SERVLET || !SEND_METHODS.has(s.labels.method)) continue;
    const { le, ...rest } = s.labels;
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (le === undefined || Number.isNaN(bound)) throw new Error(`${HISTOGRAM}_bucket without a numeric le label: ${JSON.stringify(s.labels)}`);
    if (!Number.isFinite(s.value) || s.value < 0) throw new Error(`${HISTOGRAM}_bucket ${JSON.stringify(s.labels)} is ${s.value}, not a count`);
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    let one = series.get(key);
    if (!one) series.set(key, (one = { code: rest.code ?? '', buckets: new Map() }));
    one.buckets.set(bound, s.value);
  }
  for (const [key, one] of series) {
    const bounds = [...one.buckets.keys()].sort((a, b) => a - b);
    if (bounds.at(-1) !== Infinity) throw new Error(`${HISTOGRAM} series ${key} has no +Inf bucket`);
    bounds.forEach((b, i) => {
      if (i > 0 && one.buckets.get(b) < one.buckets.get(bounds[i - 1])) throw new Error(`${HISTOGRAM} series ${key}: bucket le=${b} is below le=${bounds[i - 1]} (buckets are cumulative)`);
    });
  }
  return { present: types.get(HISTOGRAM) === 'histogram', startTime, series };
}

/**
 * The sends between two scrapes: per bucket (cumulative over every send series) and the errors. A series
 * whose counts went down, or every series when Synapse's start time changed, restarted from zero, so its
 * whole current count is new (what Prometheus' rate() does with a reset); a series that appeared is new too.
 */
export function sendDelta(previous, current) {
  const restarted = previous.startTime !== undefined && current.startTime !== undefined && previous.startTime !== current.startTime;
  const cumulative = new Map();
  let errors = 0;
  let resets = 0;
  for (const [key, now] of current.series) {
    const before = previous.series.get(key);
    const reset = restarted || (before !== undefined && [...now.buckets].some(([b, n]) => n < (before.buckets.get(b) ?? 0)));
    if (reset) resets++;
    for (const [bound, n] of now.buckets) {
      const d = n - (reset || !before ? 0 : (before.buckets.get(bound) ?? 0));
      cumulative.set(bound, (cumulative.get(bound) ?? 0) + d);
    }
    if (isSendError(now.code)) errors += now.buckets.get(Infinity) - (reset || !before ? 0 : (before.buckets.get(Infinity) ?? 0));
  }
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const buckets = bounds.map((upper, i) => ({ lower: i === 0 ? 0 : bounds[i - 1], upper, count: cumulative.get(upper) - (i === 0 ? 0 : cumulative.get(bounds[i - 1])) }));
  return { sends: cumulative.get(Infinity) ?? 0, errors, buckets, resets };
}

/**
 * The value a bucket's sends are published at, in milliseconds: the middle of (lower, upper], the
 * histogram's only knowledge of where in the bucket they fell; the +Inf bucket at its lower bound
 * (10 s in Synapse's buckets), a floor. CloudWatch's p50/p99 are then within half a bucket of the truth.
 */
export const bucketValueMs = ({ lower, upper }) => Math.round((upper === Infinity ? lower : (lower + upper) / 2) * 1_000_000) / 1000;

/** The PutMetricData data of one delta: nothing when no send happened. */
export function sendMetricData(delta, environment, timestamp) {
  if (delta.sends <= 0) return [];
  const common = {
    Dimensions: [
      { Name: 'Environment', Value: environment },
      { Name: 'Backend', Value: BACKEND },
    ],
    Timestamp: timestamp,
  };
  // Like the Hasura side: one 1 per attempt, a 1 or 0 per attempt for errors, so Sum and Average read the same.
  const counted = (pairs) => pairs.filter(([, n]) => n > 0);
  const errorPairs = counted([
    [1, delta.errors],
    [0, delta.sends - delta.errors],
  ]);
  const latency = counted(delta.buckets.map((b) => [bucketValueMs(b), b.count]));
  const data = [
    { MetricName: METRIC_NAMES.attempts, Unit: 'Count', Values: [1], Counts: [delta.sends], ...common },
    { MetricName: METRIC_NAMES.errors, Unit: 'Count', Values: errorPairs.map(([v]) => v), Counts: errorPairs.map(([, n]) => n), ...common },
  ];
  for (let i = 0; i < latency.length; i += MAX_VALUES) {
    const chunk = latency.slice(i, i + MAX_VALUES);
    data.push({ MetricName: METRIC_NAMES.latency, Unit: 'Milliseconds', Values: chunk.map(([v]) => v), Counts: chunk.map(([, n]) => n), ...common });
  }
  return data;
}
