import { AB_BACKENDS, AbBackend } from '../../chat-domain/ab-metrics';
import { AB_MEASURES, AbDailySeries } from './cloudwatch';
import { CostShare, SHARED_SPLIT_RULE } from './cost-share';
import { compare, DailySummary, MIN_DAYS, NOISE_MULTIPLE, summarize } from './stats';

export interface ReportInput {
  readonly stackName: string;
  readonly start: Date;
  readonly end: Date;
  readonly series: AbDailySeries;
  readonly cost: CostShare;
  readonly chartPath?: string;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : '–');
const usd = (n: number) => `$${n.toFixed(2)}`;

/** The measures whose daily mean is compared; sendSamples/attempts/errors feed the sample sizes and the error rate. */
const COMPARED = ['messages', 'senders', 'rooms', 'sendP50', 'sendP99', 'errorRate', 'mcpP99', 'previewP50'] as const;

/** Daily send error rate (%) from the failed and attempted sends of the same day. */
function errorRateDays(series: AbDailySeries, backend: AbBackend): number[] {
  const attempts = series.attempts[backend];
  return [...attempts].filter(([, n]) => n > 0).map(([day, n]) => (100 * (series.errors[backend].get(day) ?? 0)) / n);
}

function daysOf(series: AbDailySeries, key: string, backend: AbBackend): number[] {
  if (key === 'errorRate') return errorRateDays(series, backend);
  return [...(series[key]?.[backend] ?? new Map<string, number>()).values()];
}

const total = (series: AbDailySeries, key: string, backend: AbBackend) => [...series[key][backend].values()].reduce((a, b) => a + b, 0);

export function formatReport(input: ReportInput): string {
  const { series } = input;
  const labels: Record<string, string> = Object.fromEntries(AB_MEASURES.map((m) => [m.key, `${m.label} (${m.unit})`]));
  labels.errorRate = 'send error rate (%)';
  const lines: string[] = [];
  lines.push(`### A/B evaluation: ${input.stackName}, ${input.start.toISOString().slice(0, 10)} to ${new Date(input.end.getTime() - 1).toISOString().slice(0, 10)} (UTC days)`);
  lines.push('');
  lines.push(
    `Each cell is the mean of the daily values ± their standard deviation, over the days with data. A difference is called larger than the day-to-day noise when |matrix − hasura-lite| > ${NOISE_MULTIPLE} × its standard error (Welch) with at least ${MIN_DAYS} days on each side.`,
  );
  lines.push('');
  lines.push('| measure | matrix | hasura-lite | difference (matrix − hasura-lite) | larger than noise? |');
  lines.push('|---|---:|---:|---:|---|');
  for (const key of COMPARED) {
    const s = Object.fromEntries(AB_BACKENDS.map((b) => [b, summarize(daysOf(series, key, b))])) as Record<AbBackend, DailySummary>;
    const cell = (x: DailySummary) => (x.days === 0 ? 'no data' : `${fmt(x.mean)} ± ${fmt(x.sd)} (${x.days} d)`);
    const verdict = compare(s.matrix, s['hasura-lite']);
    const diff = verdict.kind === 'difference' ? `${verdict.delta >= 0 ? '+' : ''}${fmt(verdict.delta)} (noise ${fmt(verdict.noise)})` : '–';
    const larger = verdict.kind === 'difference' ? (verdict.larger ? 'yes' : 'no') : `not enough data: ${verdict.reason}`;
    lines.push(`| ${labels[key]} | ${cell(s.matrix)} | ${cell(s['hasura-lite'])} | ${diff} | ${larger} |`);
  }
  lines.push('');
  lines.push('Sample sizes:');
  for (const b of AB_BACKENDS) {
    lines.push(
      `- ${b}: ${fmt(total(series, 'messages', b), 0)} messages on ${series.messages[b].size} days; ${fmt(total(series, 'sendSamples', b), 0)} sends timed; ${fmt(total(series, 'attempts', b), 0)} send requests, ${fmt(total(series, 'errors', b), 0)} failed`,
    );
  }
  lines.push('');
  lines.push('Monthly cost share (npm run cost model):');
  lines.push('');
  lines.push('| backend | its own items | half of shared | total | per 1,000 messages |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const b of AB_BACKENDS) {
    const days = Math.max(1, (input.end.getTime() - input.start.getTime()) / 86_400_000);
    const perMonth = (total(series, 'messages', b) / days) * 30.4;
    const per1000 = perMonth > 0 ? usd((input.cost.totalUsd[b] / perMonth) * 1000) : 'no messages';
    lines.push(`| ${b} | ${usd(input.cost.dedicatedUsd[b])} | ${usd(input.cost.sharedUsd / 2)} | ${usd(input.cost.totalUsd[b])} | ${per1000} |`);
  }
  lines.push('');
  lines.push(`Rule: ${SHARED_SPLIT_RULE}`);
  if (input.chartPath) lines.push('', `Chart (messages per day, send p99 per backend): ${input.chartPath}`);
  return lines.join('\n');
}
