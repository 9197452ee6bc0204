import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE, AB_WINDOW_SECONDS, AbBackend } from '../../../chat-domain/ab-metrics';
import { main, MAX_DAYS, type AbReportDeps } from '../../../scripts/ab-report';
import { BACKEND_COLORS, CHART_PANELS, CHART_WIDTH } from '../../../scripts/ab-report/chart';
import { CloudWatchStandIn, startCloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { standInClients } from '../../support/aws/sdk-env';
import { captureConsole } from '../../support/console-capture';
import { stackTemplate } from '../../support/synth';

const { out, err } = captureConsole();
const ENVIRONMENT = 'phenom-development';
const NOW = new Date('2026-11-15T09:30:00Z');
const DAYS = 14;
const dayStart = (i: number) => Date.UTC(2026, 10, 1 + i); // 2026-11-01 … 2026-11-14, the 14 whole days before NOW

/** What the collector would have published, per backend and day. */
const SEEDED = {
  messages: { matrix: [100, 120, 80, 100, 140, 60, 100, 120, 80, 100, 140, 60, 100, 100], 'hasura-lite': [300, 320, 280, 300, 340, 260, 300, 320, 280, 300, 340, 260, 300, 300] },
  senders: { matrix: [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11], 'hasura-lite': [11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10] },
} satisfies Record<string, Record<AbBackend, number[]>>;
/** Send latencies per day: 98 fast sends and 2 slow ones, so p99 is the slow value. */
const LATENCY = { matrix: { fast: 40, slow: 400 }, 'hasura-lite': { fast: 20, slow: 90 } };

function seed(cw: CloudWatchStandIn): void {
  const dims = (backend: AbBackend) => ({ [AB_DIMENSIONS.environment]: ENVIRONMENT, [AB_DIMENSIONS.backend]: backend });
  const put = (backend: AbBackend, metricName: string, t: number, values: { value: number; count: number }[]) =>
    cw.put({ namespace: AB_NAMESPACE, metricName, dimensions: dims(backend), timestamp: new Date(t), values });
  for (const backend of ['matrix', 'hasura-lite'] as const) {
    for (let d = 0; d < DAYS; d++) {
      // A day's messages in 20 windows of 5 minutes; the first window is published twice, as a retried run would.
      const perWindow = SEEDED.messages[backend][d] / 20;
      for (let w = 0; w < 20; w++) put(backend, AB_METRICS.messagesSent, dayStart(d) + w * AB_WINDOW_SECONDS * 1000, [{ value: perWindow, count: 1 }]);
      put(backend, AB_METRICS.messagesSent, dayStart(d), [{ value: perWindow, count: 1 }]);
      // "So far today" counts grow during the day; the day's value is its last (largest).
      for (const [h, share] of [
        [6, 0.5],
        [23, 1],
      ] as const)
        put(backend, AB_METRICS.distinctSendersToday, dayStart(d) + h * 3_600_000, [{ value: Math.round(SEEDED.senders[backend][d] * share), count: 1 }]);
      put(backend, AB_METRICS.activeRoomsToday, dayStart(d) + 23 * 3_600_000, [{ value: 3, count: 1 }]);
      put(backend, AB_METRICS.sendLatency, dayStart(d) + 3_600_000, [
        { value: LATENCY[backend].fast, count: 98 },
        { value: LATENCY[backend].slow, count: 2 },
      ]);
      put(backend, AB_METRICS.sendAttempts, dayStart(d) + 3_600_000, [{ value: 100, count: 1 }]);
      put(backend, AB_METRICS.sendErrors, dayStart(d) + 3_600_000, [{ value: backend === 'matrix' ? 2 : 0, count: 1 }]);
    }
  }
  // Outside the report's range: yesterday's partial day is not a whole day before NOW… and today is excluded.
  put('matrix', AB_METRICS.messagesSent, Date.UTC(2026, 10, 15, 1), [{ value: 10_000, count: 1 }]);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/** A row's cells, by measure label prefix. */
function row(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${label}`));
  if (!line) throw new Error(`no row "${label}" in:\n${table}`);
  return line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}
function meanSd(cell: string): { mean: number; sd: number; days: number } {
  const m = /^([\d,.]+) ± ([\d,.]+) \((\d+) d\)$/.exec(cell);
  if (!m) throw new Error(`not a "mean ± sd (n d)" cell: ${cell}`);
  return { mean: Number(m[1].replace(/,/g, '')), sd: Number(m[2].replace(/,/g, '')), days: Number(m[3]) };
}

/** Pixels within a small distance of `hex` in rows [y0, y1) of the plot area (left of the legend, which also shows the colours). */
function pixelsNear(png: PNG, hex: string, y0: number, y1: number): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < CHART_WIDTH; x++) {
      const i = (y * png.width + x) * 4;
      if (Math.abs(png.data[i] - r) + Math.abs(png.data[i + 1] - g) + Math.abs(png.data[i + 2] - b) < 40) n++;
    }
  }
  return n;
}

/** The run's shared synth of the environment (test/support/synth.ts), in place of the script's own: the same app and context, synthesized once for every suite. */
const template = (_context: Record<string, unknown>, envName: string) => stackTemplate(envName as 'development' | 'production').toJSON() as ReturnType<NonNullable<AbReportDeps['template']>>;

describe('npm run ab-report', () => {
  let cw: CloudWatchStandIn;
  const dir = mkdtempSync(join(tmpdir(), 'ab-report-'));

  afterEach(async () => cw?.close());

  it('prints both backends side by side from GetMetricData, says which differences exceed the noise, and charts them', async () => {
    // A small page size makes the client follow NextToken through several pages.
    cw = await startCloudWatchStandIn({ maxDatapointsPerResponse: 250 });
    seed(cw);
    const chart = join(dir, 'chart.png');
    expect(await main(['-c', 'env=development', '--days', String(DAYS), '--out', chart], { clients: standInClients(cw.url), now: NOW, template })).toBe(0);
    expect(err).toEqual([]);
    const table = out.join('\n');
    expect(cw.getRequests.length).toBeGreaterThan(1);
    expect(cw.getRequests[0]).toMatchObject({ StartTime: Date.UTC(2026, 10, 1) / 1000, EndTime: Date.UTC(2026, 10, 15) / 1000 });

    const messages = row(table, 'messages per day');
    // Summed 5-minute Maximums: the duplicated window counts once, and today's 10,000 is outside the range.
    expect(meanSd(messages[1]).mean).toBeCloseTo(mean(SEEDED.messages.matrix), 1);
    expect(meanSd(messages[1]).sd).toBeCloseTo(sd(SEEDED.messages.matrix), 0);
    expect(meanSd(messages[1]).days).toBe(DAYS);
    expect(meanSd(messages[2]).mean).toBeCloseTo(mean(SEEDED.messages['hasura-lite']), 1);
    expect(messages[4]).toBe('yes');

    const senders = row(table, 'distinct senders per day');
    expect(meanSd(senders[1]).mean).toBeCloseTo(mean(SEEDED.senders.matrix), 1);
    expect(senders[4]).toBe('no');

    expect(row(table, 'send latency p99')[1]).toMatch(new RegExp(`^${LATENCY.matrix.slow} ± 0 \\(14 d\\)$`));
    expect(row(table, 'send latency p99')[2]).toMatch(new RegExp(`^${LATENCY['hasura-lite'].slow} ± 0 \\(14 d\\)$`));
    expect(row(table, 'send latency p50')[1]).toMatch(new RegExp(`^${LATENCY.matrix.fast} ± 0`));
    expect(meanSd(row(table, 'send error rate')[1]).mean).toBe(2);
    expect(row(table, 'MCP tool latency p99').slice(1, 3)).toEqual(['no data', 'no data']);
    expect(row(table, 'MCP tool latency p99')[4]).toMatch(/^not enough data/);

    expect(table).toContain(`- matrix: ${SEEDED.messages.matrix.reduce((a, b) => a + b, 0).toLocaleString('en-US')} messages on 14 days; 1,400 sends timed; 1,400 send requests, 28 failed`);
    expect(table).toMatch(/\| matrix \| \$\d+\.\d\d \| \$\d+\.\d\d \| \$\d+\.\d\d \| \$\d+\.\d\d \|/);
    expect(table).toContain('split 50/50');

    const png = PNG.sync.read(readFileSync(chart));
    expect(png.width).toBeGreaterThan(600);
    // Both panels (stacked top to bottom) carry a line of each backend's colour.
    const half = Math.floor(png.height / 2);
    expect(CHART_PANELS.map((p) => p.key)).toEqual(['messages', 'sendP99']);
    for (const [y0, y1] of [
      [0, half],
      [half, png.height],
    ]) {
      for (const color of Object.values(BACKEND_COLORS)) expect(pixelsNear(png, color, y0, y1)).toBeGreaterThan(50);
    }
  });

  it('still writes a valid chart and says "not enough data" when nothing was collected', async () => {
    cw = await startCloudWatchStandIn();
    const chart = join(dir, 'empty.png');
    expect(await main(['-c', 'env=development', '--days', '7', '--out', chart], { clients: standInClients(cw.url), now: NOW, template })).toBe(0);
    expect(row(out.join('\n'), 'messages per day').slice(1)).toEqual(['no data', 'no data', '–', 'not enough data: needs 3 days of data on each backend (have 0 and 0)']);
    const png = PNG.sync.read(readFileSync(chart));
    for (const color of Object.values(BACKEND_COLORS)) expect(pixelsNear(png, color, 0, png.height)).toBe(0);
  });

  it.each([
    [['-c', 'env=development'], '--days is required'],
    [['-c', 'env=development', '--days', '0'], `--days: expected a whole number from 1 to ${MAX_DAYS}`],
    [['-c', 'env=development', '--days', String(MAX_DAYS + 1)], 'CloudWatch keeps 5-minute data for 63 days'],
    [['-c', 'env=development', '--days', '7.5'], '--days: expected a whole number'],
    [['-c', 'env=development', '--days', '7', '--out', 'chart.svg'], '--out: expected a .png file name'],
    [['-c', 'env=staging', '--days', '7'], 'unknown environment "staging"'],
    [['--days', '7', '--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with exit 2 and says why, before calling AWS', async (argv, message) => {
    cw = await startCloudWatchStandIn();
    expect(await main(argv, { clients: standInClients(cw.url), now: NOW, template })).toBe(2);
    expect(err.join('\n')).toContain(message);
    expect(err.join('\n')).toContain('usage: npm run ab-report');
    expect(cw.getRequests).toEqual([]);
  });

  it('fails with the reason when CloudWatch cannot be reached, writing no chart', async () => {
    cw = await startCloudWatchStandIn();
    const url = cw.url;
    await cw.close();
    const chart = join(dir, 'unreachable.png');
    expect(await main(['-c', 'env=development', '--days', '7', '--out', chart], { clients: standInClients(url), now: NOW, template })).toBe(1);
    expect(err.join('\n')).toMatch(/^ab-report: could not reach AWS to read the A\/B metrics of phenom-development/);
    expect(() => readFileSync(chart)).toThrow(/ENOENT/);
    cw = await startCloudWatchStandIn(); // for afterEach
  });
});
