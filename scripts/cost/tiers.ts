import { hasuraSourcePoolMax } from '../../lib/chat-hasura-lite/pools';
import { ConnectionBudget, connectionBudget } from '../../lib/operations/connection-budget';
import { scalableTargetOf } from '../../lib/operations/template-refs';
import { CfnTemplate, CostEstimate, estimateMonthlyCost } from './estimate';
import { USAGE_ASSUMPTIONS, UsageAssumptions } from './prices';
import { synthesizedTemplate } from './synth';

/** A capacity tier (docs/capacity.md): an environment of cdk.json with config laid over it, and the traffic it is sized for. */
export interface CostTier {
  readonly name: string;
  /** The environment of cdk.json the tier starts from. */
  readonly environment: 'development' | 'production';
  /** Config keys laid over the environment's (mergeConfig), as they would be written in cdk.json. */
  readonly overrides: Record<string, unknown>;
  readonly usage: UsageAssumptions;
  /** A Graviton RDS class to price beside the tier's own, and what it trades. */
  readonly graviton: { readonly instanceClass: string; readonly tradeOff: string };
}

const tenTimes = (u: UsageAssumptions): UsageAssumptions => ({
  ...u,
  albAverageLcus: u.albAverageLcus * 5,
  requestsPerMonth: u.requestsPerMonth * 10,
  natGbPerMonth: u.natGbPerMonth * 5,
  lambdaInvocationsPerFunction: u.lambdaInvocationsPerFunction * 10,
  logsGbPerMonth: u.logsGbPerMonth * 6,
  secretsApiCallsPerMonth: u.secretsApiCallsPerMonth * 3,
});

/**
 * The three tiers `npm run cost` prints. Launch is production exactly as cdk.json configures it;
 * 10× raises what saturates first at ten times the traffic: Hasura and MCP task ceilings, Synapse's
 * one process (more CPU: it cannot use a second core) and the database, to a class with twice the
 * memory, so twice the connections and cache, and Synapse's generic workers (sync, client reads; up to
 * 16). Every worker is in the synthesized template, so it is in the price and the budget.
 */
export const COST_TIERS: readonly CostTier[] = [
  {
    name: 'development',
    environment: 'development',
    overrides: {},
    usage: USAGE_ASSUMPTIONS.development,
    graviton: {
      instanceClass: 'db.t4g.medium',
      tradeOff: 'burstable: 2 vCPU on CPU credits (20 % baseline) and 4 GiB, about half the connections; fine for a team’s test traffic, throttled under a sustained load test',
    },
  },
  {
    name: 'production at launch',
    environment: 'production',
    overrides: {},
    usage: USAGE_ASSUMPTIONS.production,
    graviton: {
      instanceClass: 'db.m7g.large',
      tradeOff:
        'same 2 vCPU / 8 GiB (so the same max_connections) on Graviton3, about 6 % cheaper per hour and faster per vCPU; needs PostgreSQL 13.7+ (we run 17) and a reboot-length instance-class change',
    },
  },
  {
    name: 'production at 10× launch',
    environment: 'production',
    overrides: {
      database: { mode: 'create', instanceClass: 'db.m5.xlarge' },
      hasura: { mode: 'create', minCount: 3, maxCount: 12 },
      mcp: { maxCount: 12 },
      services: { synapse: { cpu: 1024, memoryMiB: 4096 } },
      // Sync and client reads are what grow with users: up to 16 generic workers, and a Redis node with
      // twice the memory and network for their replication streams.
      synapse: { workers: { generic: { minCount: 4, maxCount: 16 }, redis: { nodeType: 'cache.t4g.medium' } } },
    },
    usage: tenTimes(USAGE_ASSUMPTIONS.production),
    graviton: {
      instanceClass: 'db.m7g.xlarge',
      tradeOff: 'same 4 vCPU / 16 GiB on Graviton3, about 6 % cheaper per hour; the Multi-AZ standby doubles the saving',
    },
  },
];

export interface TierResult {
  readonly tier: CostTier;
  readonly estimate: CostEstimate;
  readonly gravitonEstimate: CostEstimate;
  readonly budget: ConnectionBudget;
  readonly template: CfnTemplate;
}

/** The template with every created RDS instance on another class (the Graviton option, priced without a second synth). */
export function withInstanceClass(template: CfnTemplate, instanceClass: string): CfnTemplate {
  const resources = Object.fromEntries(
    Object.entries(template.Resources ?? {}).map(([id, r]) => [id, r.Type === 'AWS::RDS::DBInstance' ? { ...r, Properties: { ...r.Properties, DBInstanceClass: instanceClass } } : r]),
  );
  return { ...template, Resources: resources };
}

/** Synthesizes one tier and prices it, with its Graviton option and its connection budget. */
export function evaluateTier(context: Record<string, unknown>, tier: CostTier, synth: typeof synthesizedTemplate = synthesizedTemplate): TierResult {
  const template = synth(context, tier.environment, tier.overrides);
  return {
    tier,
    template,
    estimate: estimateMonthlyCost(template, tier.usage),
    gravitonEstimate: estimateMonthlyCost(withInstanceClass(template, tier.graviton.instanceClass), tier.usage),
    budget: connectionBudget(template, { hasuraSourcePoolMax: hasuraSourcePoolMax() }),
  };
}

/** "1" or "2–6": a service's task count, from its ScalableTarget or DesiredCount. */
function taskCounts(template: CfnTemplate, serviceName: RegExp): string {
  const resources = Object.entries(template.Resources ?? {});
  const services = resources.filter(([, r]) => r.Type === 'AWS::ECS::Service' && serviceName.test(String(r.Properties?.ServiceName ?? '')));
  if (services.length === 0) return '0';
  return services
    .map(([id, s]) => {
      const target = scalableTargetOf(resources, id);
      const min = target ? Number(target[1].Properties?.MinCapacity) : Number(s.Properties?.DesiredCount ?? 1);
      const max = target ? Number(target[1].Properties?.MaxCapacity) : min;
      return min === max ? `${min}` : `${min}–${max}`;
    })
    .join(' + ');
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The tiers side by side: task counts, instance class, monthly cost, the Graviton option and the connection budget. */
export function formatTierSummary(results: readonly TierResult[]): string {
  const lines = [
    '## Tiers',
    '',
    '| tier | Synapse tasks (main + workers) | Hasura tasks | MCP tasks | RDS class | USD/month | Graviton option | USD/month | connections (limit) |',
    '|---|---|---|---|---|---:|---|---:|---|',
  ];
  for (const r of results) {
    const rds = Object.values(r.template.Resources ?? {}).find((x) => x.Type === 'AWS::RDS::DBInstance');
    lines.push(
      `| ${r.tier.name} | ${taskCounts(r.template, /-synapse($|-(?!admin))/)} | ${taskCounts(r.template, /-hasura$/)} | ${taskCounts(r.template, /-chat-mcp$/)} | ${String(rds?.Properties?.DBInstanceClass)}${rds?.Properties?.MultiAZ === true ? ' Multi-AZ' : ''} | ${usd(r.estimate.totalUsd)} | ${r.tier.graviton.instanceClass} | ${usd(r.gravitonEstimate.totalUsd)} | ${r.budget.total} of ${r.budget.maxConnections} (${r.budget.usable}) |`,
    );
  }
  lines.push('', 'Graviton trade-offs:');
  for (const r of results) lines.push(`- ${r.tier.name}, ${r.tier.graviton.instanceClass}: ${r.tier.graviton.tradeOff}.`);
  return lines.join('\n');
}
