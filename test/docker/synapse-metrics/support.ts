import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE } from '../../../chat-domain/ab-metrics';
import { CloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { STAND_IN_CREDENTIALS } from '../../support/aws/sdk-env';

/** The files the image holds under /app (docker/synapse-metrics/Dockerfile): the tests run these with node. */
export const SIDECAR_DIR = join(__dirname, '../../../docker/synapse-metrics');
export const MAIN = join(SIDECAR_DIR, 'src/main.mjs');
export const HEALTH = join(SIDECAR_DIR, 'src/health.mjs');

/** Expositions recorded from the real Synapse 1.67 (fixtures/README.md says how). */
export const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

/** Synapse's metrics listener as it answers (prometheus_client's MetricsHandler): text 0.0.4 on /_synapse/metrics. */
export const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ScrapeAnswer {
  readonly body: string;
  readonly status?: number;
  readonly type?: string;
}

/** Answers each scrape with the next answer, and the last one again once they run out. */
export async function startMetricsListener(answers: readonly ScrapeAnswer[]) {
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/_synapse/metrics') return void res.writeHead(404).end();
    const a = answers[Math.min(served, answers.length - 1)];
    served++;
    res.writeHead(a.status ?? 200, { 'content-type': a.type ?? EXPOSITION_TYPE }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/_synapse/metrics`,
    served: () => served,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * CloudWatch as the sidecar reaches it: the stand-in, except that the first `failures` PutMetricData calls
 * get CloudWatch's 500 InternalFailure (AWS JSON 1.0 error shape), which the SDK retries and then gives up on.
 */
export async function startCloudWatchFront(target: CloudWatchStandIn, failures = 0) {
  let puts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (String(req.headers['x-amz-target']).endsWith('.PutMetricData') && puts++ < failures) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'InternalFailure;Receiver' });
        return void res.end(JSON.stringify({ __type: 'InternalFailure', message: 'The request processing has failed because of an unknown error.' }));
      }
      const url = new URL(target.url);
      const fwd = request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, puts: () => puts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface RunningSidecar {
  readonly child: ChildProcess;
  readonly lines: () => Record<string, unknown>[];
  waitFor(what: string, test: () => boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function sidecarEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
    ...env,
  };
}

/** Runs the sidecar's main.mjs with `node`, collecting its JSON log lines. */
export function runSidecar(env: Record<string, string>): RunningSidecar {
  const child = spawn(process.execPath, ['--no-deprecation', '--no-warnings', MAIN], { env: sidecarEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (c: Buffer) => {
    buffered += c.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    lines: () => lines,
    async waitFor(what, test, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!test()) {
        if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}) before ${what}; stderr: ${stderr}; log: ${JSON.stringify(lines)}`);
        if (Date.now() > until) throw new Error(`no ${what} within ${timeoutMs} ms; log: ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** What CloudWatch answers for the matrix send figures of `environment` around now (one period). */
export async function sendFigures(cloudWatchUrl: string, environment: string) {
  const client = new CloudWatchClient({ region: 'us-east-1', endpoint: cloudWatchUrl, credentials: STAND_IN_CREDENTIALS });
  const now = Date.now();
  const query = (id: string, metric: string, stat: string) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: AB_NAMESPACE,
        MetricName: metric,
        Dimensions: [
          { Name: AB_DIMENSIONS.environment, Value: environment },
          { Name: AB_DIMENSIONS.backend, Value: 'matrix' },
        ],
      },
      Period: 7200,
      Stat: stat,
    },
  });
  const r = await client.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 3_600_000),
      EndTime: new Date(now + 3_600_000),
      MetricDataQueries: [
        query('attempts', AB_METRICS.sendAttempts, 'Sum'),
        query('errors', AB_METRICS.sendErrors, 'Sum'),
        query('errorrate', AB_METRICS.sendErrors, 'Average'),
        query('samples', AB_METRICS.sendLatency, 'SampleCount'),
        query('p50', AB_METRICS.sendLatency, 'p50'),
        query('p99', AB_METRICS.sendLatency, 'p99'),
      ],
    }),
  );
  client.destroy();
  const value = (id: string) => r.MetricDataResults?.find((x) => x.Id === id)?.Values?.[0];
  return { attempts: value('attempts'), errors: value('errors'), errorRate: value('errorrate'), samples: value('samples'), p50: value('p50'), p99: value('p99') };
}
