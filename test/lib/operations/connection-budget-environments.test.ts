import { hasuraSourcePoolMax } from '../../../lib/chat-hasura-lite/pools';
import { ENVIRONMENTS_CONTEXT_KEY } from '../../../lib/config';
import { assertWithinBudget, connectionBudget } from '../../../lib/operations/connection-budget';
import { cdkContext, synthesizedTemplate } from '../../../scripts/cost/synth';

const context = cdkContext();
const environments = Object.keys(context[ENVIRONMENTS_CONTEXT_KEY] as Record<string, unknown>);

// Every environment of cdk.json, synthesized as `cdk synth` would: a pool, task ceiling or Lambda cap that
// takes the clients past 80 % of max_connections fails here, naming the largest clients.
describe.each(environments)('the %s environment', (envName) => {
  test('its database clients fit the connection budget', () => {
    const budget = connectionBudget(synthesizedTemplate(context, envName), { hasuraSourcePoolMax: hasuraSourcePoolMax() });
    expect(() => assertWithinBudget(budget, envName)).not.toThrow();
    // Hasura, Synapse and the Cognito trigger are clients in every environment: the budget found them.
    expect(budget.clients.map((c) => c.name)).toEqual(expect.arrayContaining(['ChatHasuraLiteHasuraEngineService', 'ChatSynapseService', 'ChatSharedTriggersUserProvisionerFunction']));
  });
});

test("Hasura's source pool is read from the metadata the applier ships", () => {
  expect(hasuraSourcePoolMax()).toBe(20);
});
