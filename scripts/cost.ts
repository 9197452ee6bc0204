/**
 * `npm run cost`: the three capacity tiers (development, production at launch, production at 10×
 * launch; scripts/cost/tiers.ts), each synthesized from its config and priced from its template,
 * with a Graviton RDS option and the tier's database connection budget, then the tiers side by side.
 *
 * `npm run cost -- --env NAME` prices one environment of cdk.json as it stands (all of them with
 * `--from-cdk-out` alone, which reads cdk.out/PhenomChat-<env>.template.json after a `cdk synth`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackName } from '../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../lib/config';
import { CfnTemplate, estimateMonthlyCost } from './cost/estimate';
import { formatEstimate } from './cost/format';
import { usageAssumptionsFor } from './cost/prices';
import { cdkContext, selectedEnvironments, synthesizedTemplate } from './cost/synth';
import { COST_TIERS, evaluateTier, formatTierSummary } from './cost/tiers';

const root = join(__dirname, '..');

function main(argv: string[]): void {
  const context = cdkContext(root);
  if (!argv.includes('--env') && !argv.includes('--from-cdk-out')) {
    const results = COST_TIERS.map((tier) => {
      const result = evaluateTier(context, tier);
      console.log(formatEstimate(`Tier: ${tier.name}`, result.estimate, tier.usage), '\n');
      return result;
    });
    console.log(formatTierSummary(results));
    return;
  }
  for (const envName of selectedEnvironments(context, argv)) {
    const name = stackName(loadConfig(context[ENVIRONMENTS_CONTEXT_KEY], envName));
    const template = argv.includes('--from-cdk-out') ? (JSON.parse(readFileSync(join(root, 'cdk.out', `${name}.template.json`), 'utf8')) as CfnTemplate) : synthesizedTemplate(context, envName);
    const usage = usageAssumptionsFor(envName);
    console.log(formatEstimate(name, estimateMonthlyCost(template, usage), usage));
    console.log('');
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`cost: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
