import { Template } from 'aws-cdk-lib/assertions';
import { stackTemplate, synthesizeVariant } from '../support/synth';
import { mcpBackend } from '../support/synth-variants';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };

/** The logical ids of the resources of `type` (e.g. one deploy-step custom resource type). */
function idsOf(template: Template, type: string): string[] {
  const ids = Object.keys(template.findResources(type));
  expect({ type, found: ids.length > 0 }).toEqual({ type, found: true });
  return ids;
}

/** The one ECS service named `name`: [logical id, resource]. */
function service(template: Template, name: string): [string, Resource] {
  const found = Object.entries(template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === 'AWS::ECS::Service' && r.Properties?.ServiceName === name);
  expect(found).toHaveLength(1);
  return found[0];
}

/** Asserts that CloudFormation creates (and updates) the service only after each named resource. */
function expectStartsAfter(template: Template, serviceName: string, dependencies: string[]): void {
  const dependsOn = service(template, serviceName)[1].DependsOn ?? [];
  for (const id of dependencies) expect({ service: serviceName, dependsOn: dependsOn.includes(id), on: id }).toEqual({ service: serviceName, dependsOn: true, on: id });
}

function withBackend(backendType: 'synapse' | 'postgres'): Template {
  return Template.fromJSON(synthesizeVariant(mcpBackend(backendType)).templates['PhenomChat-development'] as Record<string, unknown>);
}

describe.each(['development', 'production'] as const)('start order in the %s stack', (env) => {
  const t = stackTemplate(env);
  const prefix = `phenom-${env}`;

  it('starts Synapse after its database setup', () => {
    expectStartsAfter(t, `${prefix}-synapse`, idsOf(t, 'Custom::SynapseDatabase'));
  });

  it('starts the Admin UI after Synapse', () => {
    expectStartsAfter(t, `${prefix}-synapse-admin`, [service(t, `${prefix}-synapse`)[0]]);
  });

  it('starts Hasura after the chat migrations', () => {
    expectStartsAfter(t, `${prefix}-hasura`, idsOf(t, 'Custom::ChatMigrations'));
  });

  it('starts the MCP server (hasura backend) after the migrations, the Hasura metadata, the machine account and the Cognito triggers', () => {
    expectStartsAfter(t, `${prefix}-chat-mcp`, [
      ...idsOf(t, 'Custom::ChatMigrations'),
      ...idsOf(t, 'Custom::HasuraMetadata'),
      ...idsOf(t, 'Custom::ChatMachineAccount'),
      // The pre-token trigger puts the Hasura claims into the agent's first token.
      ...Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('ChatSharedTriggersPreTokenGeneration')),
    ]);
  });
});

describe('start order of the MCP server with the other backends', () => {
  it('synapse backend: after the Synapse bootstrap (the bot token and the rooms), not after the Hasura steps', () => {
    const t = withBackend('synapse');
    expectStartsAfter(t, 'phenom-development-chat-mcp', idsOf(t, 'Custom::SynapseBootstrap'));
    const dependsOn = service(t, 'phenom-development-chat-mcp')[1].DependsOn ?? [];
    expect(dependsOn.filter((id) => idsOf(t, 'Custom::HasuraMetadata').includes(id))).toEqual([]);
  });

  it('postgres backend: after the migrations and the machine account (its users.id)', () => {
    const t = withBackend('postgres');
    expectStartsAfter(t, 'phenom-development-chat-mcp', [...idsOf(t, 'Custom::ChatMigrations'), ...idsOf(t, 'Custom::ChatMachineAccount')]);
  });
});
