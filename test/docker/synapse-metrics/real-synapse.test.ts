import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CloudWatchStandIn, startCloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { call, registerAccount, REAL_SYNAPSE, startTestHomeserver, TestHomeserver } from '../../support/matrix-test-server';
import { runSidecar, sendFigures } from './support';

/**
 * main.mjs against a real Synapse (SYNAPSE_URL, SYNAPSE_SHARED_SECRET and SYNAPSE_METRICS_URL, its
 * `type: metrics` listener): N sends through the client API must come out of CloudWatch as N attempts
 * with plausible latencies. Other clients of a shared server may send at the same time, so the count
 * is bounded by Synapse's own counter read around the run; alone on the server, it is exactly N.
 */
const METRICS_URL = process.env.SYNAPSE_METRICS_URL;
const suite = REAL_SYNAPSE && METRICS_URL ? describe : describe.skip;
if (!(REAL_SYNAPSE && METRICS_URL)) process.stderr.write('SKIPPED test/docker/synapse-metrics/real-synapse.test.ts: set SYNAPSE_URL, SYNAPSE_SHARED_SECRET and SYNAPSE_METRICS_URL to run it\n');

const N = 20;
const BUCKET_MIDDLES_MS = [2.5, 7.5, 17.5, 37.5, 62.5, 87.5, 175, 375, 625, 875, 1750, 3750, 6250, 8750, 10_000];

/** Synapse's own count of timed sends (every code), read straight from the listener. */
async function synapseSendCount(): Promise<number> {
  const text = await (await fetch(METRICS_URL!)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('synapse_http_server_response_time_seconds_count{') && l.includes('servlet="RoomSendEventRestServlet"') && /method="(PUT|POST)"/.test(l))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

suite('docker/synapse-metrics main.mjs against a real Synapse', () => {
  let hs: TestHomeserver;
  let cw: CloudWatchStandIn;
  let dir: string;
  beforeAll(async () => {
    [hs, cw] = await Promise.all([startTestHomeserver(), startCloudWatchStandIn()]);
    dir = mkdtempSync(join(tmpdir(), 'synapse-metrics-real-'));
  });
  afterAll(async () => {
    await Promise.all([hs?.close(), cw?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`publishes the ${N} sends made through the client API, with latencies no longer than the clients saw`, async () => {
    const alice = await registerAccount(hs, `ab-metrics-${hs.tag}`, false);
    const room = (await call(hs, alice.token, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat', name: `ab ${hs.tag}` })).json.room_id as string;
    const before = await synapseSendCount();
    // A long interval: the first scrape is the baseline, SIGTERM's last cycle publishes the sends.
    const sidecar = runSidecar({
      SYNAPSE_METRICS_URL: METRICS_URL!,
      AB_ENVIRONMENT: 'phenom-real',
      SCRAPE_INTERVAL_SECONDS: '3600',
      AWS_ENDPOINT_URL_CLOUDWATCH: cw.url,
      HEARTBEAT_FILE: join(dir, 'hb'),
    });
    await sidecar.waitFor('the baseline', () => sidecar.lines().some((l) => String(l.msg).startsWith('baseline taken')));
    const clientMs: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const r = await call(hs, alice.token, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/ab-${hs.tag}-${i}`, { msgtype: 'm.text', body: `ab ${i}` });
      clientMs.push(performance.now() - t0);
      expect(r.status).toBe(200);
    }
    expect(await sidecar.stop()).toBe(0);
    const after = await synapseSendCount();

    const published = sidecar.lines().find((l) => l.msg === 'published');
    const figures = await sendFigures(cw.url, 'phenom-real');
    expect(published).toMatchObject({ sends: figures.attempts, errors: 0 });
    expect(figures.attempts).toBeGreaterThanOrEqual(N);
    expect(figures.attempts).toBeLessThanOrEqual(after - before);
    if (after - before === N) expect(figures).toMatchObject({ attempts: N, samples: N, errors: 0 });
    // Published at bucket middles; Synapse's time is part of what the client waited, so its p99 bucket
    // starts below the slowest client round trip.
    expect(BUCKET_MIDDLES_MS).toContain(figures.p50);
    expect(BUCKET_MIDDLES_MS).toContain(figures.p99);
    expect(figures.p50!).toBeLessThanOrEqual(figures.p99!);
    const lowerBound = (middle: number) => [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10_000][BUCKET_MIDDLES_MS.indexOf(middle)];
    expect(lowerBound(figures.p99!)).toBeLessThanOrEqual(Math.max(...clientMs));
    process.stdout.write(
      `real Synapse: ${figures.attempts} sends published (${after - before} counted by Synapse), p50 ${figures.p50} ms, p99 ${figures.p99} ms; client round trips ${Math.min(...clientMs).toFixed(1)}–${Math.max(...clientMs).toFixed(1)} ms\n`,
    );
  });
});
