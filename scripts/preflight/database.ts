import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { awsErrorCode } from '../aws/errors';
import { CheckFailed, type Check } from './check';
import { describeSecret } from './secrets';

/** States in which the deploy-time steps (migrations, Synapse database) cannot connect. */
const UNREACHABLE = new Set(['stopped', 'stopping', 'deleting', 'failed', 'inaccessible-encryption-credentials', 'incompatible-network', 'storage-full']);

/** The imported database instance exists at the configured endpoint, runs, and its secret exists. */
export const databaseCheck: Check = {
  name: 'database',
  doing: 'describe the imported database instance',
  needs: ['credentials'],
  applies: (config) => config.database.mode === 'import',
  async run(ctx) {
    const db = ctx.config.database;
    if (db.mode !== 'import') return 'created by the stack';
    let instance;
    try {
      instance = (await ctx.aws.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db.instanceIdentifier }))).DBInstances?.[0];
    } catch (err) {
      // Wire code DBInstanceNotFound, which the SDK names DBInstanceNotFoundFault.
      if (/^DBInstanceNotFound/.test(awsErrorCode(err) ?? ''))
        throw new CheckFailed(`no RDS instance ${db.instanceIdentifier} in account ${ctx.account} ${ctx.config.region}: check database.instanceIdentifier`);
      throw err;
    }
    const problems: string[] = [];
    if (instance?.Engine !== 'postgres') problems.push(`its engine is ${instance?.Engine}, not postgres`);
    if (instance?.Endpoint?.Address !== db.endpoint) problems.push(`its endpoint is ${instance?.Endpoint?.Address}, not database.endpoint ${db.endpoint}`);
    if (instance?.Endpoint?.Port !== db.port) problems.push(`it listens on ${instance?.Endpoint?.Port}, not database.port ${db.port}`);
    if (instance?.EngineVersion && instance.EngineVersion !== db.engineVersion) {
      problems.push(`it runs PostgreSQL ${instance.EngineVersion}; set database.engineVersion to "${instance.EngineVersion}" (now ${db.engineVersion})`);
    }
    if (UNREACHABLE.has(instance?.DBInstanceStatus ?? '')) {
      problems.push(
        `it is ${instance?.DBInstanceStatus}, so the deploy-time migrations cannot connect${instance?.DBInstanceStatus === 'stopped' ? ` (\`aws rds start-db-instance --db-instance-identifier ${db.instanceIdentifier}\`)` : ''}`,
      );
    }
    if (problems.length) throw new CheckFailed(`database ${db.instanceIdentifier}: ${problems.join('; ')}`);
    await describeSecret(ctx, 'database.secretArn', db.secretArn);
    return `${db.instanceIdentifier} (PostgreSQL ${instance?.EngineVersion}, ${instance?.DBInstanceStatus}) at ${db.endpoint}:${db.port}; its secret exists`;
  },
};
