import { CostEstimate } from './estimate';
import { PRICE_TABLE, UsageAssumptions } from './prices';

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The estimate as a Markdown table, grouped by category with subtotals, ready to paste into docs. */
export function formatEstimate(title: string, estimate: CostEstimate, usage: UsageAssumptions): string {
  const lines = [
    `### ${title}: ${usd(estimate.totalUsd)} per month`,
    '',
    `On-demand ${PRICE_TABLE.region} prices (${PRICE_TABLE.recorded}), ${PRICE_TABLE.hoursPerMonth} h per month.`,
    '',
    '| category | item | how | USD/month |',
    '|---|---|---|---:|',
  ];
  const categories = [...new Set(estimate.items.map((i) => i.category))];
  for (const category of categories) {
    const items = estimate.items.filter((i) => i.category === category);
    for (const item of items) lines.push(`| ${category} | ${item.name} | ${item.detail} | ${usd(item.monthlyUsd)} |`);
    if (items.length > 1) lines.push(`| ${category} | **subtotal** | | **${usd(items.reduce((s, i) => s + i.monthlyUsd, 0))}** |`);
  }
  lines.push(`| **total** | | | **${usd(estimate.totalUsd)}** |`, '');
  lines.push(
    `Usage assumed: ${usage.requestsPerMonth.toLocaleString('en-US')} requests/month, ${usage.albAverageLcus} ALB LCU average, ` +
      `${usage.natGbPerMonth} GB through NAT, ${usage.lambdaInvocationsPerFunction.toLocaleString('en-US')} invocations per request-driven Lambda at ${usage.lambdaAverageMs} ms, ` +
      `scheduled Lambda runs of ${usage.scheduledLambdaAverageMs / 1000} s, ${usage.logsGbPerMonth} GB of logs ingested, ${usage.secretsApiCallsPerMonth.toLocaleString('en-US')} Secrets Manager calls.`,
  );
  for (const note of estimate.notes) lines.push('', note);
  return lines.join('\n');
}
