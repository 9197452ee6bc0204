// The Synapse metrics sidecar (issue #18), in Synapse's task. Every SCRAPE_INTERVAL_SECONDS it reads
// Synapse's exposition on the task's loopback and publishes the message sends since the previous scrape
// to CloudWatch as distributions (Values/Counts), so CloudWatch computes p50/p99 over every send of every
// task and period. PutMetricData, not EMF: EMF has no Counts, so a bucket of 10,000 sends would be 10,000
// values in the log line (at most 100 are allowed).
//
// The first scrape is only the baseline. A scrape that fails, or a publish that fails, keeps the previous
// baseline, so the next good cycle publishes both windows' sends: nothing is lost or counted twice.
import { writeFileSync } from 'node:fs';
import console from 'node:console';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { readConfig } from './config.mjs';
import { parseExposition } from './exposition.mjs';
import { HISTOGRAM, NAMESPACE, sendDelta, sendMetricData, sendSeries } from './send-metrics.mjs';

const SCRAPE_TIMEOUT_MS = 5_000;
const PUBLISH_TIMEOUT_MS = 10_000;

const log = (level, msg, fields = {}) => console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));

let config;
try {
  config = readConfig();
} catch (err) {
  log('error', 'refusing to start', { error: err.message });
  process.exit(1);
}

const cloudWatch = new CloudWatchClient({ maxAttempts: 3 });
let baseline;

async function scrape() {
  // Text 0.0.4 asked for by name: newer prometheus_client serves OpenMetrics to a client that prefers it.
  const res = await globalThis.fetch(config.url, { headers: { accept: 'text/plain;version=0.0.4' }, signal: globalThis.AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${config.url} answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`${config.url} answered ${JSON.stringify(type)}, not the text exposition format`);
  return text;
}

/** One scrape and, past the baseline, one publish; never throws. */
async function cycle() {
  const at = new Date();
  let current;
  try {
    current = sendSeries(parseExposition(await scrape()));
  } catch (err) {
    log('error', 'scrape failed; nothing published, the sends are counted at the next good scrape', { error: err.message });
    return;
  }
  if (!current.present) {
    log('error', `${HISTOGRAM} is not in the exposition (enable_metrics off, or renamed in a Synapse upgrade?); nothing published`);
    return;
  }
  if (!baseline) {
    baseline = current;
    log('info', 'baseline taken; sends are published from the next scrape on', { series: current.series.size });
    heartbeat(at);
    return;
  }
  const delta = sendDelta(baseline, current);
  const data = sendMetricData(delta, config.environment, at);
  if (data.length > 0) {
    try {
      await cloudWatch.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: data }), { abortSignal: globalThis.AbortSignal.timeout(PUBLISH_TIMEOUT_MS) });
    } catch (err) {
      log('error', 'publish failed; the sends are published with the next scrape', { error: err.message, sends: delta.sends });
      return;
    }
  }
  baseline = current;
  log('info', 'published', { sends: delta.sends, errors: delta.errors, resets: delta.resets, data: data.length });
  heartbeat(at);
}

function heartbeat(at) {
  try {
    writeFileSync(config.heartbeatFile, JSON.stringify({ at: at.toISOString() }));
  } catch (err) {
    log('warn', 'heartbeat not written (the health check will fail)', { error: err.message });
  }
}

let timer;
let stopping = false;
let running = Promise.resolve();
const run = () => {
  running = cycle().finally(() => {
    if (!stopping) timer = setTimeout(run, config.intervalMs);
  });
};

// ECS stops a container with SIGTERM, then SIGKILL after its stop timeout (35 s, set in the task
// definition; a cycle takes at most 15 s). The sidecar starts after Synapse and so is stopped before it:
// once the cycle in flight is done, one last cycle publishes the sends since the last scrape.
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  log('info', 'stopping', { signal });
  clearTimeout(timer);
  await running;
  if (baseline) await cycle();
  log('info', 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

log('info', 'started', { url: config.url, environment: config.environment, intervalSeconds: config.intervalMs / 1000, namespace: NAMESPACE });
run();
