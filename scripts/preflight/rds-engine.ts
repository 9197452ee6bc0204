import { DescribeOrderableDBInstanceOptionsCommand, OrderableDBInstanceOption } from '@aws-sdk/client-rds';
import type { RDSClient } from '@aws-sdk/client-rds';
import { CheckFailed, type Check } from './check';

/** The storage type the platform gives the instance (lib/platform/database.ts). */
const STORAGE_TYPE = 'gp3';

async function orderable(rds: RDSClient, filter: { EngineVersion?: string; DBInstanceClass?: string }): Promise<OrderableDBInstanceOption[]> {
  const all: OrderableDBInstanceOption[] = [];
  let Marker: string | undefined;
  do {
    const page = await rds.send(new DescribeOrderableDBInstanceOptionsCommand({ Engine: 'postgres', Vpc: true, ...filter, Marker }));
    all.push(...(page.OrderableDBInstanceOptions ?? []));
    Marker = page.Marker;
  } while (Marker);
  return all;
}

const byVersion = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * RDS can create the configured engine version on the configured instance class in the region,
 * with gp3 storage and, when asked, Multi-AZ. RDS stops creating old minors, so a version that
 * synthesizes fine can still fail the deploy after the VPC and ALB are up.
 */
export const rdsEngineCheck: Check = {
  name: 'rds-engine',
  doing: 'call rds:DescribeOrderableDBInstanceOptions',
  needs: ['credentials'],
  applies: (config) => config.database.mode === 'create',
  async run(ctx) {
    const db = ctx.config.database;
    if (db.mode !== 'create') return 'imported';
    const where = `in ${ctx.config.region}`;
    const options = await orderable(ctx.aws.rds, { EngineVersion: db.engineVersion, DBInstanceClass: db.instanceClass });
    if (!options.length) {
      const versions = [...new Set((await orderable(ctx.aws.rds, { DBInstanceClass: db.instanceClass })).map((o) => o.EngineVersion as string))].filter((v) => v.startsWith('17.')).sort(byVersion);
      throw new CheckFailed(
        versions.length
          ? `RDS does not create PostgreSQL ${db.engineVersion} on ${db.instanceClass} ${where}; it offers ${versions.join(', ')}: set database.engineVersion to one of them (the newest: "${versions.at(-1)}")`
          : `RDS offers no PostgreSQL 17 on ${db.instanceClass} ${where}: set database.instanceClass to a class it offers (\`aws rds describe-orderable-db-instance-options --engine postgres --engine-version ${db.engineVersion} --query 'OrderableDBInstanceOptions[].DBInstanceClass'\`)`,
      );
    }
    const gp3 = options.filter((o) => o.StorageType === STORAGE_TYPE);
    if (!gp3.length) {
      throw new CheckFailed(
        `RDS offers PostgreSQL ${db.engineVersion} on ${db.instanceClass} ${where} only with ${[...new Set(options.map((o) => o.StorageType))].join(', ')} storage, not gp3: pick another database.instanceClass`,
      );
    }
    if (db.multiAz && !gp3.some((o) => o.MultiAZCapable)) {
      throw new CheckFailed(`RDS offers PostgreSQL ${db.engineVersion} on ${db.instanceClass} ${where} without Multi-AZ: pick another database.instanceClass or set database.multiAz to false`);
    }
    return `PostgreSQL ${db.engineVersion} on ${db.instanceClass} (gp3${db.multiAz ? ', Multi-AZ' : ''}) ${where}`;
  },
};
