import { hasuraSourcePoolMax } from '../../../lib/chat-hasura-lite/pools';
import { assertWithinBudget, BudgetTemplate, connectionBudget } from '../../../lib/operations/connection-budget';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';

const environments = Object.keys(cdkJsonEnvironments()) as Array<'development' | 'production'>;

// Every environment of cdk.json (the run's shared synth, as `cdk synth` would make it): a pool, task ceiling or Lambda cap that
// takes the clients past 80 % of max_connections fails here, naming the largest clients.
describe.each(environments)('the %s environment', (envName) => {
  test('its database clients fit the connection budget', () => {
    const budget = connectionBudget(stackTemplate(envName).toJSON() as BudgetTemplate, { hasuraSourcePoolMax: hasuraSourcePoolMax() });
    expect(() => assertWithinBudget(budget, envName)).not.toThrow();
    // Hasura, Synapse and the Cognito trigger are clients in every environment: the budget found them.
    expect(budget.clients.map((c) => c.name)).toEqual(expect.arrayContaining(['ChatHasuraLiteHasuraEngineService', 'ChatSynapseService', 'ChatSharedTriggersUserProvisionerFunction']));
  });
});

test("Hasura's source pool is read from the metadata the applier ships", () => {
  expect(hasuraSourcePoolMax()).toBe(20);
});
