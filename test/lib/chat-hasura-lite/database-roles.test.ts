import { stackTemplate } from '../../support/synth';
import { CLIENT_ROLE_NAMES } from '../../../chat-domain/client-roles';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };

/**
 * The per-client database roles in the synthesized stack (issue #15): a rotation-ready secret per
 * role, the roles step's two runs in their place in the deploy, and each client after the first.
 */
describe.each(['development', 'production'] as const)('the chat database client roles (%s)', (envName) => {
  const resources = stackTemplate(envName).toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [[instanceId]] = ofType('AWS::RDS::DBInstance');
  const [[migrationsId]] = ofType('Custom::ChatMigrations');
  const [[metadataId]] = ofType('Custom::HasuraMetadata');
  const steps = ofType('Custom::ChatClientRoles');
  const step = (phase: string) => steps.find(([, r]) => r.Properties?.Phase === phase)!;

  it('gives each role a generated secret shaped for the AWS PostgreSQL rotation functions, attached to the instance', () => {
    const secrets = ofType('AWS::SecretsManager::Secret').filter(([, r]) => /-db-/.test(JSON.stringify(r.Properties?.Name)));
    expect(secrets.map(([, r]) => r.Properties!.Name).sort()).toEqual(CLIENT_ROLE_NAMES.map((c) => `phenom-${envName}-db-${c.replace('_', '-')}`).sort());
    for (const [id, secret] of secrets) {
      const generate = secret.Properties!.GenerateSecretString;
      expect(generate.GenerateStringKey).toBe('password');
      expect(secret.Properties).not.toHaveProperty('SecretString');
      // username and dbname literal; masterarn a reference to the master secret (multi-user rotation).
      expect(JSON.stringify(generate.SecretStringTemplate)).toMatch(/\\"username\\":\\"(hasura|link_preview|provisioner|mcp)\\"/);
      expect(JSON.stringify(generate.SecretStringTemplate)).toMatch(/\\"dbname\\":\\"phenom\\"/);
      expect(JSON.stringify(generate.SecretStringTemplate)).toContain('masterarn');
      // The attachment adds engine, host, port and dbInstanceIdentifier from the instance.
      const attachments = ofType('AWS::SecretsManager::SecretTargetAttachment').filter(([, a]) => a.Properties?.SecretId?.Ref === id);
      expect(attachments.map(([, a]) => a.Properties)).toEqual([{ SecretId: { Ref: id }, TargetId: { Ref: instanceId }, TargetType: 'AWS::RDS::DBInstance' }]);
    }
  });

  it('runs the roles step after the migrations, and again after the Hasura metadata step', () => {
    expect(steps).toHaveLength(2);
    const [rolesId, roles] = step('roles');
    const [, afterMetadata] = step('after-metadata');
    expect(roles.DependsOn).toContain(migrationsId);
    expect(afterMetadata.DependsOn).toEqual(expect.arrayContaining([rolesId, metadataId]));
    expect(Object.keys(roles.Properties!.RoleSecretArns).sort()).toEqual([...CLIENT_ROLE_NAMES].sort());
    // A changed sql/ or role spec re-runs both.
    for (const [, s] of steps) expect(s.Properties).toMatchObject({ SqlHash: expect.stringMatching(/^[0-9a-f]{64}$/), SpecHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('starts every client of the database after the roles exist, each reading its own role secret', () => {
    const [rolesId] = step('roles');
    const secretOf = (client: string) => ofType('AWS::SecretsManager::SecretTargetAttachment').find(([id]) => id.startsWith(`PlatformClientRoles${client}Attachment`))![0];
    const fn = (prefix: string) => ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))!;
    for (const [prefix, client] of [
      ['ChatLinkPreviewFunction', 'LinkPreview'],
      ['ChatSharedTriggersUserProvisionerFunction', 'Provisioner'],
      ['ChatMembershipReconcilerHandlerFunction', 'Provisioner'],
    ] as const) {
      const [, f] = fn(prefix);
      expect({ prefix, dependsOn: f.DependsOn }).toEqual({ prefix, dependsOn: expect.arrayContaining([rolesId]) });
      expect(f.Properties!.Environment.Variables.DB_SECRET_ARN).toEqual({ Ref: secretOf(client) });
    }
    const [, hasura] = ofType('AWS::ECS::Service').find(([, s]) => s.Properties?.ServiceName === `phenom-${envName}-hasura`)!;
    expect(hasura.DependsOn).toContain(rolesId);
    const [, hasuraTask] = ofType('AWS::ECS::TaskDefinition').find(([id]) => id.startsWith('ChatHasuraLiteHasuraEngineTaskDefinition'))!;
    const dbSecrets = hasuraTask.Properties!.ContainerDefinitions[0].Secrets.filter((s: { Name: string }) => s.Name.startsWith('DB_'));
    expect(JSON.stringify(dbSecrets)).toContain(secretOf('Hasura'));
    expect(dbSecrets).toHaveLength(2);
    const [, mcp] = ofType('AWS::ECS::Service').find(([, s]) => s.Properties?.ServiceName === `phenom-${envName}-chat-mcp`)!;
    expect(mcp.DependsOn).toContain(rolesId);
  });
});
