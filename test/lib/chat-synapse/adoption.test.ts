import { Template } from 'aws-cdk-lib/assertions';
import { stackTemplate, synthesizeVariant } from '../../support/synth';
import { ADOPTED_ROLE_SECRET_ARN as ROLE_SECRET_ARN, ADOPTED_SIGNING_KEY_ARN as SIGNING_KEY_ARN, ADOPTING_PRODUCTION } from '../../support/synth-variants';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Resource = { Type: string; Properties: Record<string, any> };

/** Production adopting seed 003's homeserver: phenom-prod-postgres, its `synapse` database, its signing key. */
const adoptingProduction = (): Template => Template.fromJSON(synthesizeVariant(ADOPTING_PRODUCTION).templates['PhenomChat-production'] as Record<string, unknown>);

function synapseContainer(t: Template) {
  const [task] = Object.values(t.findResources('AWS::ECS::TaskDefinition', { Properties: { Family: 'phenom-production-synapse' } })) as Resource[];
  const container = task.Properties.ContainerDefinitions[0];
  return { secrets: Object.fromEntries(container.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, JSON.stringify(s.ValueFrom)])) as Record<string, string> };
}

const secretNames = (t: Template) => Object.values(t.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>).map((r) => r.Properties.Name as string);

describe('production adopting the running homeserver', () => {
  const t = adoptingProduction();
  const { secrets } = synapseContainer(t);

  it('gives Synapse the imported signing key, and no seed: the server keeps its federation identity', () => {
    expect(Object.keys(secrets)).toContain('SYNAPSE_SIGNING_KEY');
    expect(Object.keys(secrets)).not.toContain('SYNAPSE_SIGNING_KEY_SEED');
    expect(secrets.SYNAPSE_SIGNING_KEY).toBe(JSON.stringify(SIGNING_KEY_ARN));
    expect(secretNames(t)).not.toContain('phenom-production-synapse-signing-key-seed');
  });

  it("connects Synapse as the old server's role, from its own secret, and generates no database role", () => {
    expect(secrets.SYNAPSE_DB_USER).toBe(JSON.stringify(`${ROLE_SECRET_ARN}:username::`));
    expect(secrets.SYNAPSE_DB_PASSWORD).toBe(JSON.stringify(`${ROLE_SECRET_ARN}:password::`));
    expect(secretNames(t)).not.toContain('phenom-production-synapse-database');
  });

  it('lets the Synapse execution role read exactly the two imported secrets', () => {
    const policies = JSON.stringify(Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('ChatSynapseTaskDefinitionExecutionRole')));
    expect(policies).toContain(SIGNING_KEY_ARN);
    expect(policies).toContain(ROLE_SECRET_ARN);
  });

  it('runs the database step in import mode for the configured server name, so it checks and changes nothing', () => {
    const [setup] = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { SYNAPSE_DB_MODE: 'import' } } } })) as Resource[];
    expect(setup.Properties.Environment.Variables).toMatchObject({ SYNAPSE_DB_NAME: 'synapse', SYNAPSE_SERVER_NAME: 'thephenom.app', SYNAPSE_DB_SECRET_ARN: ROLE_SECRET_ARN });
    t.hasResourceProperties('Custom::SynapseDatabase', { DatabaseName: 'synapse', Mode: 'import', ServerName: 'thephenom.app', DatabaseSecretArn: ROLE_SECRET_ARN });
  });

  it("neither rotates the adopted role's secret nor restarts Synapse on a rotation: the operator owns that secret", () => {
    const schedules = Object.values(t.findResources('AWS::SecretsManager::RotationSchedule')) as Resource[];
    expect(schedules.filter((r) => JSON.stringify(r.Properties.SecretId).includes(ROLE_SECRET_ARN))).toEqual([]);
    expect(schedules.filter((r) => JSON.stringify(r.Properties.SecretId).includes('ChatSynapse'))).toEqual([]);
    const [rule] = Object.values(t.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.secretsmanager'] } } })) as Resource[];
    expect(JSON.stringify(rule.Properties.EventPattern)).not.toContain(ROLE_SECRET_ARN);
    expect(rule.Properties.EventPattern.detail.additionalEventData.SecretId).toHaveLength(1);
  });
});

describe('a new homeserver (the default)', () => {
  const t = stackTemplate('production');

  it('derives its key from a generated seed and creates its own database role', () => {
    const { secrets } = synapseContainer(t);
    expect(Object.keys(secrets)).toContain('SYNAPSE_SIGNING_KEY_SEED');
    expect(Object.keys(secrets)).not.toContain('SYNAPSE_SIGNING_KEY');
    expect(secrets.SYNAPSE_DB_USER).toMatch(/ChatSynapseSecretsDatabase.*:username::/);
    expect(secretNames(t)).toEqual(expect.arrayContaining(['phenom-production-synapse-signing-key-seed', 'phenom-production-synapse-database']));
    t.hasResourceProperties('Custom::SynapseDatabase', { Mode: 'create', ServerName: 'thephenom.app' });
  });
});
