/**
 * Prints the A/B comparison of the two backends over the last N whole UTC days, and writes a PNG
 * chart of messages per day and send latency p99 per backend.
 *
 *   npm run ab-report -- -c env=production --days 14 [--out ab-report.png] [--endpoint-url URL]
 *
 * It reads the metrics the A/B collector publishes (chat-domain/ab-metrics.ts) with CloudWatch's
 * GetMetricData, in the environment's region, with your usual AWS credentials (cloudwatch:GetMetricData
 * is the only permission it needs). The cost share comes from `npm run cost`'s model of the same
 * environment's template. README.md, "Reading the A/B comparison", explains the figures.
 */
import { writeFileSync } from 'node:fs';
import { stackName } from '../lib/app';
import { fetchAbSeries, reportRange } from './ab-report/cloudwatch';
import { renderChartPng } from './ab-report/chart';
import { costShare } from './ab-report/cost-share';
import { formatReport } from './ab-report/format';
import { AwsClients } from './aws/clients';
import { awsErrorFix } from './aws/errors';
import { parseScriptArgs, runMain } from './cli';
import { estimateMonthlyCost } from './cost/estimate';
import { usageAssumptionsFor } from './cost/prices';
import { synthesizedTemplate } from './cost/synth';
import { checkedOrExitCode, loadDeployTarget, UsageError } from './deploy-config';

const USAGE = 'usage: npm run ab-report -- -c env=NAME --days N [--out FILE.png] [--endpoint-url URL]';

/** CloudWatch keeps 5-minute data points for 63 days; the messages-per-day sums need them. */
export const MAX_DAYS = 63;

export interface AbReportDeps {
  readonly clients?: AwsClients;
  readonly cdkJsonPath?: string;
  readonly now?: Date;
  /**
   * The synthesized template of an environment, read for its cost.
   * @default a synth of the app with the given context, once per process
   */
  readonly template?: (context: Record<string, unknown>, envName: string) => ReturnType<typeof synthesizedTemplate>;
}

function parseDays(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('--days is required (whole UTC days before today, e.g. --days 14)');
  const days = Number(raw);
  if (!/^\d+$/.test(raw) || days < 1 || days > MAX_DAYS) {
    throw new UsageError(`--days: expected a whole number from 1 to ${MAX_DAYS} (CloudWatch keeps 5-minute data for 63 days), got "${raw}"`);
  }
  return days;
}

/** One synth per environment and process: the template does not change while the script runs. */
const templates = new Map<string, ReturnType<typeof synthesizedTemplate>>();
function templateOf(context: Record<string, unknown>, envName: string) {
  const key = JSON.stringify(context);
  if (!templates.has(key)) templates.set(key, synthesizedTemplate(context, envName));
  return templates.get(key)!;
}

export async function main(argv: string[], deps: AbReportDeps = {}): Promise<number> {
  const parsed = parseScriptArgs<{ context?: string[]; days?: string; out?: string; 'endpoint-url'?: string }>(
    argv,
    { context: { type: 'string', short: 'c', multiple: true }, days: { type: 'string' }, out: { type: 'string' }, 'endpoint-url': { type: 'string' } },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const checked = checkedOrExitCode(() => {
    const days = parseDays(parsed.values.days);
    if (parsed.values.out !== undefined && !parsed.values.out.endsWith('.png')) throw new UsageError(`--out: expected a .png file name, got "${parsed.values.out}"`);
    return { days, ...loadDeployTarget(parsed.values.context ?? [], deps.cdkJsonPath) };
  }, USAGE);
  if ('exitCode' in checked) return checked.exitCode;
  const { days, config, context } = checked.value;
  const clients = deps.clients ?? new AwsClients({ region: config.region, endpoint: parsed.values['endpoint-url'] });
  const window = { environment: config.prefix, days, now: deps.now };
  let series;
  try {
    series = await fetchAbSeries(clients.cloudWatch, window);
  } catch (err) {
    console.error(`ab-report: ${awsErrorFix(err, `read the A/B metrics of ${config.prefix}`)}`);
    return 1;
  }
  // The chart is written before the table is printed, so a path that cannot be written fails the run visibly.
  const chartPath = parsed.values.out ?? `ab-report-${config.envName}.png`;
  writeFileSync(chartPath, await renderChartPng(series));
  const estimate = estimateMonthlyCost((deps.template ?? templateOf)(context, config.envName), usageAssumptionsFor(config.envName));
  const { start, end } = reportRange(window);
  console.log(formatReport({ stackName: stackName(config), start, end, series, cost: costShare(estimate), chartPath }));
  return 0;
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
