import { stackTemplate } from '../support/synth';

/**
 * Issue #15: after setup, only the deploy steps that make the schema, the roles and Synapse's
 * database (and the A/B readers) may read the RDS master secret. Every resource of the synthesized
 * template that refers to the master secret is either one of those steps, the secret's own
 * plumbing, or a client role secret naming it (masterarn, for the multi-user rotation scheme).
 */
type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** The deploy steps that connect as the master user (the construct paths their logical ids start with). */
const MASTER_READERS = ['AbEvaluation/Collector/ReaderRolesHandler', 'ChatDatabaseRoles/Handler', 'ChatHasuraLite/Migrations/MigrationsRunner', 'ChatSynapse/DatabaseSetup/Handler'];
const readerOf = (logicalId: string) => MASTER_READERS.find((p) => new RegExp(`^${p.replace(/\//g, '')}Function[0-9A-F]{8}$`).test(logicalId)) ?? logicalId;
/**
 * Resources that name the secret without reading it: its attachment, the instance, the role secrets'
 * masterarn, and the A/B reader-roles step's property (a re-run trigger its handler, a listed reader, gets).
 */
const NAMES_ONLY = new Set(['AWS::SecretsManager::SecretTargetAttachment', 'AWS::RDS::DBInstance', 'AWS::SecretsManager::Secret', 'Custom::AbReaderRoles']);

/** Logical ids `node` refers to (Ref, Fn::GetAtt), anywhere inside it. */
function references(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => references(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string') found.add(value);
      else if (key === 'Fn::GetAtt' && Array.isArray(value)) found.add(String(value[0]));
      else references(value, found);
    }
  }
  return found;
}

function masterSecretReaders(envName: 'development' | 'production'): { readers: string[]; rotations: string[]; unexplained: string[] } {
  const resources = stackTemplate(envName).toJSON().Resources as Record<string, Resource>;
  // The instance's password is a dynamic reference to the master secret; the attachment is the secret with the instance's address added.
  const [instance] = Object.values(resources).filter((r) => r.Type === 'AWS::RDS::DBInstance');
  const secret = [...references(instance.Properties?.MasterUserPassword)].filter((id) => resources[id]?.Type === 'AWS::SecretsManager::Secret');
  const attachment = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::SecretsManager::SecretTargetAttachment' && references(resources[id].Properties?.SecretId).has(secret[0]));
  const master = new Set([...secret, ...attachment]);
  expect([secret.length, attachment.length]).toEqual([1, 1]);
  const path = (id: string) => id;
  const refersToMaster = (node: unknown) => [...references(node)].some((id) => master.has(id));
  // Who runs as each IAM role: the functions and task definitions that name it.
  const usersOfRole = (roleId: string) =>
    Object.entries(resources)
      .filter(
        ([, r]) =>
          (r.Type === 'AWS::Lambda::Function' && references(r.Properties?.Role).has(roleId)) ||
          (r.Type === 'AWS::ECS::TaskDefinition' && references([r.Properties?.ExecutionRoleArn, r.Properties?.TaskRoleArn]).has(roleId)),
      )
      .map(([id]) => id);

  const readers = new Set<string>();
  const unexplained: string[] = [];
  // Secrets Manager's hosted rotation functions log in as the master: the master's own, and each role secret's (masterarn).
  const rotations: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (master.has(id) || !refersToMaster(resource.Properties)) continue;
    if (resource.Type === 'AWS::SecretsManager::RotationSchedule' && resource.Properties?.HostedRotationLambda) {
      rotations.push(id);
    } else if (resource.Type === 'AWS::SecretsManager::ResourcePolicy' && [...references(resource.Properties?.SecretId)].every((s) => master.has(s))) {
      // The master secret's own policy (the hosted rotation's), on the secret itself.
    } else if (resource.Type === 'AWS::IAM::Policy') {
      const roles = [...references(resource.Properties?.Roles)];
      const users = roles.flatMap(usersOfRole);
      if (users.length === 0) unexplained.push(`${path(id)}: grants the master secret to ${roles.join(', ')}, which no function or task uses`);
      for (const user of users) readers.add(path(user));
    } else if (resource.Type === 'AWS::Lambda::Function' || resource.Type === 'AWS::ECS::TaskDefinition') {
      readers.add(path(id));
    } else if (!NAMES_ONLY.has(resource.Type)) {
      unexplained.push(`${path(id)} (${resource.Type}) refers to the master secret`);
    }
  }
  return { readers: [...readers].map(readerOf).sort(), rotations: rotations.sort(), unexplained };
}

describe.each(['development', 'production'] as const)('the RDS master secret (%s)', (envName) => {
  it('is readable by the schema, roles, Synapse-database and A/B-reader steps only: no service, no user-facing function', () => {
    const { readers, rotations, unexplained } = masterSecretReaders(envName);
    expect(unexplained).toEqual([]);
    expect(readers).toEqual(MASTER_READERS);
    // Beyond those: the hosted rotations, of the master itself and of the seven role secrets (four client
    // roles, two A/B readers, and Synapse's, whose alternating-users rotation sets passwords as the master).
    expect(rotations.map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(
      [
        'PlatformDatabaseMasterRotation',
        ...['Hasura', 'LinkPreview', 'Mcp', 'Provisioner'].map((c) => `PlatformClientRoles${c}Rotation`),
        'AbEvaluationCollectorChatReaderRotation',
        'AbEvaluationCollectorSynapseReaderRotation',
        'ChatSynapseDatabaseRotation',
      ].sort(),
    );
  });
});
