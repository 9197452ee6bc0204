import { stackTemplate } from '../support/synth';

/**
 * Issue #15: after setup, only the deploy steps that make the schema, the roles and Synapse's
 * database (and the A/B readers) may read the RDS master secret. Every resource of the synthesized
 * template that refers to the master secret is either one of those steps, the secret's own
 * plumbing, or a client role secret naming it (masterarn, for the multi-user rotation scheme).
 */
type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** The deploy steps that connect as the master user (the construct paths their logical ids start with). */
const STEPS = ['AbEvaluation/Collector/ReaderRolesHandler', 'ChatDatabaseRoles/Handler', 'ChatHasuraLite/Migrations/MigrationsRunner', 'ChatSynapse/DatabaseSetup/Handler'];
const readerOf = (logicalId: string) => STEPS.find((p) => new RegExp(`^${p.replace(/\//g, '')}Function[0-9A-F]{8}$`).test(logicalId)) ?? logicalId;
/** Resources that name the secret without reading it: its attachment, the instance, and the role secrets' masterarn. */
const NAMES_ONLY = new Set(['AWS::SecretsManager::SecretTargetAttachment', 'AWS::RDS::DBInstance', 'AWS::SecretsManager::Secret']);
/** AWS's hosted rotation functions: the master's own (single user) and each role secret's (alternating users, as the master). */
const HOSTED_ROTATION = 'Secrets Manager hosted rotation';

const MASTER_READERS = [HOSTED_ROTATION, ...STEPS].sort();

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

function masterSecretReaders(envName: 'development' | 'production'): { readers: string[]; unexplained: string[] } {
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
  for (const [id, resource] of Object.entries(resources)) {
    if (master.has(id) || !refersToMaster(resource.Properties)) continue;
    if (resource.Type === 'AWS::IAM::Policy') {
      const roles = [...references(resource.Properties?.Roles)];
      const users = roles.flatMap(usersOfRole);
      if (users.length === 0) unexplained.push(`${path(id)}: grants the master secret to ${roles.join(', ')}, which no function or task uses`);
      for (const user of users) readers.add(path(user));
    } else if (resource.Type === 'AWS::Lambda::Function' || resource.Type === 'AWS::ECS::TaskDefinition') {
      readers.add(path(id));
    } else if (resource.Type === 'AWS::SecretsManager::RotationSchedule') {
      const { SecretId, HostedRotationLambda, ...rest } = resource.Properties as { SecretId: unknown; HostedRotationLambda?: { MasterSecretArn?: unknown } };
      const { MasterSecretArn, ...hosted } = HostedRotationLambda ?? {};
      // Only as the rotated secret itself or as the master of a hosted alternating-users rotation; never a custom rotation Lambda.
      if (!HostedRotationLambda || refersToMaster([rest, hosted]) || !(refersToMaster(SecretId) || refersToMaster(MasterSecretArn)))
        unexplained.push(`${path(id)}: a rotation that uses the master secret other than as AWS's hosted rotation`);
      else readers.add(HOSTED_ROTATION);
    } else if (resource.Type === 'AWS::SecretsManager::ResourcePolicy') {
      // CDK's policy on a rotated secret; it may only deny (a resource policy that allowed would be a grant outside IAM roles).
      const statements = (resource.Properties?.ResourcePolicy as { Statement: { Effect: string }[] }).Statement;
      if (statements.some((st) => st.Effect !== 'Deny')) unexplained.push(`${path(id)}: a resource policy on the master secret that allows something`);
    } else if (resource.Type.startsWith('Custom::')) {
      // A deploy step's resource passes the ARN to its handler (as a re-run trigger); reading it takes the IAM grant checked above.
    } else if (!NAMES_ONLY.has(resource.Type)) {
      unexplained.push(`${path(id)} (${resource.Type}) refers to the master secret`);
    }
  }
  return { readers: [...readers].map(readerOf).sort(), unexplained };
}

describe.each(['development', 'production'] as const)('the RDS master secret (%s)', (envName) => {
  it("is readable by the schema, roles, Synapse-database and A/B-reader steps and AWS's hosted rotation only: no service, no user-facing function", () => {
    const { readers, unexplained } = masterSecretReaders(envName);
    expect(unexplained).toEqual([]);
    expect(readers).toEqual(MASTER_READERS);
  });
});
