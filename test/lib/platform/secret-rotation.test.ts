import { ALPHANUMERIC_ONLY } from '../../../lib/platform/secret-rotation';
import { stackTemplate } from '../../support/synth';

/**
 * The master secret rotates in place (hosted single-user rotation); the database-role secrets rotate
 * (A/B readers, chat client roles, Synapse's) with alternating users against the master, each function inside
 * the VPC and admitted by RDS.
 */
describe.each(['development', 'production'] as const)('secret rotation in the %s stack', (envName) => {
  const template = stackTemplate(envName);
  const json = template.toJSON() as { Transform?: string | string[]; Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }> };
  const resources = json.Resources;
  const schedules = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::RotationSchedule');
  const [attachmentId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SecretsManager::SecretTargetAttachment')!;
  const secretIdOf = (schedule: Record<string, unknown>) => (schedule.SecretId as { Ref: string }).Ref;
  const hosted = (schedule: Record<string, unknown>) => schedule.HostedRotationLambda as Record<string, unknown>;

  it('uses the Secrets Manager transform that expands hosted rotations', () => {
    expect([json.Transform].flat()).toContain('AWS::SecretsManager-2024-09-16');
  });

  it('rotates the master secret in place every 30 days, from the VPC', () => {
    const master = schedules.filter(([, r]) => hosted(r.Properties).RotationType === 'PostgreSQLSingleUser');
    expect(master).toHaveLength(1);
    const [, schedule] = master[0]!;
    // The attached secret (with host and port), which every master consumer already reads.
    expect(secretIdOf(schedule.Properties)).toBe(attachmentId);
    expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    expect(hosted(schedule.Properties)).toMatchObject({ VpcSubnetIds: expect.anything(), VpcSecurityGroupIds: expect.anything() });
  });

  it('rotates each database-role secret (A/B readers, chat client roles, Synapse) with alternating users against the master, alphanumeric, after its role exists', () => {
    const multi = schedules.filter(([, r]) => hosted(r.Properties).RotationType === 'PostgreSQLMultiUser');
    // A client role secret rotates through its attachment (the same secret, with host and port).
    const secretOf = (id: string) => (resources[id]!.Type === 'AWS::SecretsManager::SecretTargetAttachment' ? (resources[id]!.Properties.SecretId as { Ref: string }).Ref : id);
    const nameOf = ([, r]: (typeof multi)[number]) => resources[secretOf(secretIdOf(r.Properties))]!.Properties.Name as string;
    expect(multi.map(nameOf).sort()).toEqual(
      [`ab-reader-chat`, `ab-reader-synapse`, 'db-hasura', 'db-link-preview', 'db-mcp', 'db-provisioner', 'synapse-database'].map((n) => `phenom-${envName}-${n}`),
    );
    const [readerRolesId] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::AbReaderRoles')!;
    const [clientRolesId] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::ChatClientRoles' && r.Properties.Phase === 'roles')!;
    const [synapseSetupId] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::SynapseDatabase')!;
    const stepOf = (name: string) => (name.includes('-ab-reader-') ? readerRolesId : name.endsWith('-synapse-database') ? synapseSetupId : clientRolesId);
    for (const entry of multi) {
      const [, schedule] = entry;
      expect(hosted(schedule.Properties)).toMatchObject({ MasterSecretArn: { Ref: attachmentId }, ExcludeCharacters: ALPHANUMERIC_ONLY });
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      expect(schedule.DependsOn).toEqual(expect.arrayContaining([stepOf(nameOf(entry))]));
      // The secret holds what the rotation function reads: where the database is, and the master's ARN.
      const template = JSON.stringify(resources[secretOf(secretIdOf(schedule.Properties))]!.Properties.GenerateSecretString);
      for (const key of ['dbname', 'username', 'masterarn']) expect(template).toContain(`\\"${key}\\"`);
    }
  });

  it('admits every rotation function into RDS on 5432, and nothing wider', () => {
    const [rdsSg] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::EC2::SecurityGroup' && r.Properties.GroupName === `phenom-${envName}-rds`)!;
    // A rule is inline on the RDS SG when its source lives in the same construct, a resource of its own otherwise.
    const inline = (resources[rdsSg]!.Properties.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [];
    const separate = Object.values(resources)
      .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [rdsSg, 'GroupId'] }))
      .map((r) => r.Properties);
    const rotationSgs = schedules.map(([, r]) => (hosted(r.Properties).VpcSecurityGroupIds as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    expect(new Set(rotationSgs).size).toBe(8);
    for (const sg of rotationSgs) {
      const rules = [...inline, ...separate].filter((rule) => JSON.stringify(rule.SourceSecurityGroupId) === JSON.stringify({ 'Fn::GetAtt': [sg, 'GroupId'] }));
      expect(rules.map(({ IpProtocol, FromPort, ToPort }) => ({ IpProtocol, FromPort, ToPort }))).toEqual([{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 }]);
    }
  });
});
