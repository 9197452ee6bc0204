import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchAbSeries } from '../../../scripts/ab-report/cloudwatch';
import { CloudWatchStandIn, startCloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { standInClients } from '../../support/aws/sdk-env';
import { fixture, HEALTH, MAIN, RunningSidecar, runSidecar, ScrapeAnswer, sendFigures, sidecarEnv, startCloudWatchFront, startMetricsListener } from './support';

/**
 * docker/synapse-metrics/src/main.mjs, the file the image runs, run with node against a metrics listener
 * answering as Synapse 1.67 did (recorded expositions) and the CloudWatch stand-in.
 *
 * The recording (fixtures/README.md): between `before` and `after` the real server answered 25 sends with
 * 200 and 3 with 403 (not a member). Their bucket deltas, all codes together: 2 in (10, 25] ms, 4 in
 * (25, 50], 7 in (50, 75], 8 in (75, 100], 7 in (100, 250], published at the buckets' middles
 * 17.5, 37.5, 62.5, 87.5 and 175 ms: the 14th of 28 (p50) is 87.5, the 28th (p99) 175.
 */
const BEFORE = fixture('synapse-1.67-before.txt');
const AFTER = fixture('synapse-1.67-after.txt');
const ENVIRONMENT = 'phenom-test';
const RECORDED = { attempts: 28, errors: 0, errorRate: 0, samples: 28, p50: 87.5, p99: 175 };

const sendLines = (line: string) => line.includes('servlet="RoomSendEventRestServlet"');
const without = (text: string, drop: (line: string) => boolean) =>
  `${text
    .split('\n')
    .filter((l) => !drop(l))
    .join('\n')}`;

let cw: CloudWatchStandIn;
let dir: string;
let running: RunningSidecar | undefined;
let closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  cw = await startCloudWatchStandIn();
  dir = mkdtempSync(join(tmpdir(), 'synapse-metrics-'));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const close of closers) await close();
  closers = [];
  await cw.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the sidecar until it has scraped every answer (and once more), stops it, and returns what it did. */
async function scrapeAll(answers: ScrapeAnswer[], options: { failures?: number } = {}) {
  const listener = await startMetricsListener(answers);
  const front = await startCloudWatchFront(cw, options.failures);
  closers.push(listener.close, front.close);
  const env = { SYNAPSE_METRICS_URL: listener.url, AB_ENVIRONMENT: ENVIRONMENT, SCRAPE_INTERVAL_SECONDS: '0.05', AWS_ENDPOINT_URL_CLOUDWATCH: front.url, HEARTBEAT_FILE: join(dir, 'heartbeat') };
  running = runSidecar(env);
  // Cycles run one after another, so a scrape past the last answer means every answer's cycle is done.
  await running.waitFor('a scrape past the last answer', () => listener.served() > answers.length);
  const code = await running.stop();
  const lines = running.lines();
  return { code, lines, puts: front.puts(), figures: await sendFigures(cw.url, ENVIRONMENT), errors: lines.filter((l) => l.level === 'error').map((l) => `${l.msg}: ${l.error ?? ''}`) };
}

describe('docker/synapse-metrics main.mjs against recorded Synapse 1.67 expositions', () => {
  it('takes the first scrape as the baseline and publishes the recorded sends as one distribution, then stops cleanly on SIGTERM', async () => {
    const r = await scrapeAll([{ body: BEFORE }, { body: AFTER }]);
    expect(r.figures).toEqual(RECORDED);
    expect(r.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['started', 'baseline taken; sends are published from the next scrape on', 'published', 'stopping', 'stopped']));
    expect(r.lines.filter((l) => l.msg === 'published' && (l.sends as number) > 0)).toEqual([expect.objectContaining({ sends: 28, errors: 0, resets: 0, data: 3 })]);
    // Scrapes without new sends publish nothing: one PutMetricData call in all.
    expect({ puts: r.puts, code: r.code, errors: r.errors }).toEqual({ puts: 1, code: 0, errors: [] });
  });

  it("is what ab-report reads as Matrix's send figures for the day", async () => {
    await scrapeAll([{ body: BEFORE }, { body: AFTER }]);
    const today = new Date().toISOString().slice(0, 10);
    const series = await fetchAbSeries(standInClients(cw.url).cloudWatch, { environment: ENVIRONMENT, days: 1, now: new Date(Date.now() + 86_400_000) });
    const matrix = (key: string) => series[key].matrix.get(today);
    expect({ p50: matrix('sendP50'), p99: matrix('sendP99'), samples: matrix('sendSamples'), attempts: matrix('attempts'), errors: matrix('errors') }).toEqual({
      p50: 87.5,
      p99: 175,
      samples: 28,
      attempts: 28,
      errors: 0,
    });
  });

  it('publishes nothing for the first scrape alone (no delta yet)', async () => {
    const r = await scrapeAll([{ body: AFTER }]);
    expect({ puts: r.puts, attempts: r.figures.attempts, code: r.code }).toEqual({ puts: 0, attempts: undefined, code: 0 });
  });

  it('counts 5xx and 429 as errors, other 4xx not (the same sends, answered 500 or 429 instead of 403)', async () => {
    for (const code of ['500', '429']) {
      const as = (text: string) => text.replaceAll('code="403"', `code="${code}"`);
      const r = await scrapeAll([{ body: as(BEFORE) }, { body: as(AFTER) }]);
      expect({ code, ...r.figures }).toEqual({ code, ...RECORDED, errors: 3, errorRate: 3 / 28 });
      await running!.stop();
      await cw.close();
      cw = await startCloudWatchStandIn();
    }
  });

  it('treats counts that went down as a restart of Synapse: everything counted since is new', async () => {
    // After `after`, the server shows `before` again: one send (in (100, 250] ms) since it restarted.
    const r = await scrapeAll([{ body: AFTER }, { body: BEFORE }]);
    expect(r.figures).toEqual({ attempts: 1, errors: 0, errorRate: 0, samples: 1, p50: 175, p99: 175 });
    expect(r.lines.find((l) => l.msg === 'published' && (l.sends as number) > 0)).toMatchObject({ sends: 1, resets: 1 });
  });

  it('treats a new process_start_time_seconds as a restart even where no count went down', async () => {
    const restarted = AFTER.replace('process_start_time_seconds 1.79615176019e+09', 'process_start_time_seconds 1.79615200000e+09');
    const r = await scrapeAll([{ body: AFTER }, { body: restarted }]);
    expect(r.figures).toMatchObject({ attempts: 29, samples: 29 });
  });

  it('takes a send series that appears later (no send yet at the baseline) as new from zero', async () => {
    const r = await scrapeAll([{ body: without(AFTER, sendLines) }, { body: AFTER }]);
    expect(r.figures).toMatchObject({ attempts: 29, samples: 29, errors: 0 });
    expect(r.errors).toEqual([]);
  });

  it('says so when the histogram is missing altogether, publishes nothing for it, and goes on', async () => {
    const noHistogram = without(AFTER, (l) => l.includes('synapse_http_server_response_time_seconds'));
    const r = await scrapeAll([{ body: noHistogram }, { body: BEFORE }, { body: noHistogram }, { body: AFTER }]);
    expect(r.errors.filter((e) => e.includes('synapse_http_server_response_time_seconds is not in the exposition'))).toHaveLength(2);
    expect(r.figures).toEqual(RECORDED);
    expect(r.code).toBe(0);
  });

  it('refuses a malformed scrape with a clear error, publishes nothing for it, and counts its sends at the next good one', async () => {
    const truncated = AFTER.slice(0, AFTER.indexOf('servlet="RoomSendEventRestServlet"') + 20);
    const badLabel = AFTER.replace(/^(synapse_http_server_response_time_seconds_bucket\{code="200",le="0.05",)/m, '$1=');
    const r = await scrapeAll([
      { body: BEFORE },
      { body: truncated },
      { body: badLabel },
      { body: '<html>Bad gateway</html>', type: 'text/html' },
      { body: 'Internal Server Error', status: 500, type: 'text/plain' },
      { body: AFTER },
    ]);
    expect(r.errors).toEqual([
      expect.stringMatching(/^scrape failed; .*: exposition line \d+: the last line has no line feed \(truncated body\?\)/),
      expect.stringMatching(/^scrape failed; .*: exposition line \d+: expected a label name: "synapse_http_server_response_time_seconds_bucket\{code=\\"200\\",le=\\"0.05\\",=method/),
      expect.stringMatching(/^scrape failed; .*answered "text\/html", not the text exposition format/),
      expect.stringMatching(/^scrape failed; .*answered 500$/),
    ]);
    expect(r.figures).toEqual(RECORDED);
    expect({ puts: r.puts, code: r.code }).toEqual({ puts: 1, code: 0 });
  });

  it('refuses buckets that are not cumulative (a foreign or broken histogram)', async () => {
    const broken = AFTER.replace(/^(synapse_http_server_response_time_seconds_bucket\{code="200",le="0.1",method="PUT",servlet="RoomSendEventRestServlet",tag=""\}) 18.0$/m, '$1 2.0');
    const r = await scrapeAll([{ body: BEFORE }, { body: broken }, { body: BEFORE }]);
    expect(r.errors).toEqual([expect.stringContaining('bucket le=0.1 is below le=0.075 (buckets are cumulative)')]);
    expect(r.puts).toBe(0);
  });

  it('keeps the sends of a failed publish (CloudWatch answering 500 to every retry) for the next one, counting none twice', async () => {
    // maxAttempts 3: the first publish is three failed calls; the second goes through.
    const r = await scrapeAll([{ body: BEFORE }, { body: AFTER }, { body: AFTER }], { failures: 3 });
    expect(r.errors).toEqual([expect.stringContaining('publish failed; the sends are published with the next scrape')]);
    expect(r.figures).toEqual(RECORDED);
    expect(r.puts).toBe(4);
    expect(r.code).toBe(0);
  });

  it('is healthy after a complete cycle, and at SIGTERM publishes the sends since the last scrape before it exits', async () => {
    const listener = await startMetricsListener([{ body: BEFORE }, { body: AFTER }]);
    closers.push(listener.close);
    running = runSidecar({ SYNAPSE_METRICS_URL: listener.url, AB_ENVIRONMENT: ENVIRONMENT, SCRAPE_INTERVAL_SECONDS: '3600', AWS_ENDPOINT_URL_CLOUDWATCH: cw.url, HEARTBEAT_FILE: join(dir, 'hb') });
    await running.waitFor('the baseline', () => running!.lines().some((l) => String(l.msg).startsWith('baseline taken')));
    // The baseline was a complete cycle: healthy for three intervals (three hours here).
    expect(spawnSync(process.execPath, [HEALTH], { env: sidecarEnv({ AB_ENVIRONMENT: ENVIRONMENT, SCRAPE_INTERVAL_SECONDS: '3600', HEARTBEAT_FILE: join(dir, 'hb') }) }).status).toBe(0);
    expect(await running.stop()).toBe(0);
    expect(await sendFigures(cw.url, ENVIRONMENT)).toEqual(RECORDED);
  });

  it('is unhealthy without a recent complete cycle', () => {
    const env = sidecarEnv({ AB_ENVIRONMENT: ENVIRONMENT, HEARTBEAT_FILE: join(dir, 'none') });
    expect(spawnSync(process.execPath, [HEALTH], { env }).status).toBe(1);
  });

  it.each([
    [{ SYNAPSE_METRICS_URL: 'http://127.0.0.1:9000/_synapse/metrics' }, 'AB_ENVIRONMENT must be the stack prefix'],
    [{ AB_ENVIRONMENT: ENVIRONMENT, SYNAPSE_METRICS_URL: 'http://10.0.0.5:9000/_synapse/metrics' }, 'SYNAPSE_METRICS_URL must be http on the loopback'],
    [{ AB_ENVIRONMENT: ENVIRONMENT, SCRAPE_INTERVAL_SECONDS: '0' }, 'SCRAPE_INTERVAL_SECONDS must be a number of seconds'],
  ])('refuses to start with %p', (env, message) => {
    const r = spawnSync(process.execPath, ['--no-warnings', MAIN], { env: sidecarEnv(env), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ level: 'error', msg: 'refusing to start', error: expect.stringContaining(message) });
  });
});
