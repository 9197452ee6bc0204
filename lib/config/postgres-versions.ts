import * as rds from 'aws-cdk-lib/aws-rds';

const byMinor = (a: string, b: string): number => Number(a.split('.')[1]) - Number(b.split('.')[1]);

/**
 * The PostgreSQL 17 minors this aws-cdk-lib offers (`rds.PostgresEngineVersion.VER_17_<n>`), oldest
 * first. Read from the library rather than listed here, so upgrading aws-cdk-lib is what makes a new
 * minor available (and a test then asks for the default to follow it).
 */
export const CDK_POSTGRES_17_VERSIONS: readonly string[] = Object.getOwnPropertyNames(rds.PostgresEngineVersion)
  .filter((name) => /^VER_17_\d+$/.test(name))
  .map((name) => (rds.PostgresEngineVersion as unknown as Record<string, rds.PostgresEngineVersion>)[name].postgresFullVersion)
  .sort(byMinor);

/**
 * Minors RDS no longer creates new instances of: RDS deprecated PostgreSQL 17.1–17.4 for new
 * instances in May 2026 (cfn-lint W3691 "… is deprecated and cannot be used to create new RDS DB
 * instances"). A stack that names one of them fails at CreateDBInstance, minutes into its first
 * deploy; naming it here fails synth instead. An existing instance on one of them can still be
 * imported.
 */
export const RDS_NO_LONGER_CREATES: readonly string[] = ['17.1', '17.2', '17.3', '17.4'];

/**
 * Why `version` cannot be used, or undefined when it can. `mode` is the database's config mode:
 * only a created instance has to be on a minor RDS still creates.
 */
export function engineVersionProblem(version: string, mode: 'create' | 'import'): string | undefined {
  if (!CDK_POSTGRES_17_VERSIONS.includes(version)) {
    return `PostgreSQL ${version} is not a version aws-cdk-lib offers (rds.PostgresEngineVersion has ` + `${CDK_POSTGRES_17_VERSIONS.join(', ')}); pick one of those`;
  }
  if (mode === 'create' && RDS_NO_LONGER_CREATES.includes(version)) {
    const creatable = CDK_POSTGRES_17_VERSIONS.filter((v) => !RDS_NO_LONGER_CREATES.includes(v));
    return (
      `RDS no longer creates PostgreSQL ${RDS_NO_LONGER_CREATES[0]}–${RDS_NO_LONGER_CREATES.at(-1)} instances (deprecated for new ` + `instances since May 2026); pick one of ${creatable.join(', ')}`
    );
  }
  return undefined;
}

/** The aws-cdk-lib engine version object for a validated `database.engineVersion`. */
export function postgresEngineVersion(version: string): rds.PostgresEngineVersion {
  const found = (rds.PostgresEngineVersion as unknown as Record<string, rds.PostgresEngineVersion | undefined>)[`VER_${version.replace('.', '_')}`];
  if (!found) throw new Error(`database.engineVersion ${version} was not validated: aws-cdk-lib has no PostgresEngineVersion for it`);
  return found;
}
