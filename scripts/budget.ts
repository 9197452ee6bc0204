/**
 * `npm run budget [-- --env NAME]`: the database connection budget of each environment of
 * cdk.json (lib/operations/connection-budget.ts), from its freshly synthesized template. Exits 1
 * when an environment's clients may hold more than the budget allows.
 */
import { stackName } from '../lib/app';
import { hasuraSourcePoolMax } from '../lib/chat-hasura-lite/pools';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../lib/config';
import { assertWithinBudget, connectionBudget, formatBudget } from '../lib/operations/connection-budget';
import { cdkContext, selectedEnvironments, synthesizedTemplate } from './cost/synth';

function main(argv: string[]): void {
  const context = cdkContext();
  const failures: string[] = [];
  for (const envName of selectedEnvironments(context, argv)) {
    const name = stackName(loadConfig(context[ENVIRONMENTS_CONTEXT_KEY], envName));
    const budget = connectionBudget(synthesizedTemplate(context, envName), { hasuraSourcePoolMax: hasuraSourcePoolMax() });
    console.log(formatBudget(name, budget), '\n');
    try {
      assertWithinBudget(budget, name);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`budget: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
