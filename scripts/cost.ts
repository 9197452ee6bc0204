/**
 * `npm run cost [-- --env NAME] [--from-cdk-out]`: an itemised monthly estimate
 * per environment, from the synthesized CloudFormation template.
 *
 * By default each environment of cdk.json is synthesized fresh (exactly as
 * `cdk synth -c env=NAME`), so the estimate matches the code; `--from-cdk-out`
 * reads cdk.out/PhenomChat-<env>.template.json instead (after a `cdk synth`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackName } from '../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../lib/config';
import { CfnTemplate, estimateMonthlyCost } from './cost/estimate';
import { formatEstimate } from './cost/format';
import { usageAssumptionsFor } from './cost/prices';
import { synthesizedTemplate } from './cost/synth';

const root = join(__dirname, '..');

function main(argv: string[]): void {
  const context = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const environments = Object.keys(context[ENVIRONMENTS_CONTEXT_KEY] as Record<string, unknown>);
  const envFlag = argv.indexOf('--env');
  const wanted = envFlag >= 0 ? [argv[envFlag + 1]] : environments;
  for (const envName of wanted) {
    if (!envName || !environments.includes(envName)) throw new Error(`--env: expected one of ${environments.join(', ')}`);
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
