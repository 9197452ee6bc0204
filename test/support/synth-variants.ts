/**
 * The whole-environment variants that several assertions read, one function per variant. The
 * jest global setup synthesizes each once, in its own process where aws-cdk-lib, cdk-nag and the
 * CloudFormation validator are already loaded and warm (about 4 s of CPU a variant there, against
 * 14-20 s in a test file that loads them cold: measured 2026-12-01); the test files ask
 * `synthesize` for the same inputs and get that synth back (test/support/synth.ts).
 */
import type { SynthOptions } from './synth';

type Environments = Record<string, Record<string, unknown>>;

export interface SynthVariant {
  readonly envName: 'development' | 'production';
  /** Edits a fresh copy of cdk.json's environments block. */
  readonly edit: (envs: Environments) => void;
  readonly options?: SynthOptions;
}

export const ADOPTED_SIGNING_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-prod-synapse-signing-key-AbCdEf';
export const ADOPTED_ROLE_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-prod-synapse-role-GhIjKl';

/** Production adopting seed 003's homeserver: phenom-prod-postgres, its `synapse` database, its signing key. */
export const ADOPTING_PRODUCTION: SynthVariant = {
  envName: 'production',
  options: { bundleLambdas: false },
  edit: (envs) => {
    Object.assign(envs.production, {
      account: '111122223333',
      database: {
        mode: 'import',
        endpoint: 'phenom-prod-postgres.abcdefghijkl.us-east-1.rds.amazonaws.com',
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-prod-rds-MnOpQr',
        securityGroupId: 'sg-0b1b2c3d4e5f60718',
        instanceIdentifier: 'phenom-prod-postgres',
      },
      synapse: { signingKeySecretArn: ADOPTED_SIGNING_KEY_ARN, database: { mode: 'import', secretArn: ADOPTED_ROLE_SECRET_ARN } },
    });
  },
};

/** A development environment that imports every platform part by attributes (Lambdas bundled, as `cdk synth` does). */
export const IMPORT_EVERYTHING: SynthVariant = {
  envName: 'development',
  edit: (envs) => {
    Object.assign(envs.development, {
      account: '111122223333',
      certificate: { mode: 'import', arn: 'arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100' },
      network: {
        mode: 'import',
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        availabilityZones: ['us-east-1a', 'us-east-1b'],
        publicSubnetIds: ['subnet-0a00000000000000a', 'subnet-0a00000000000000b'],
        privateSubnetIds: ['subnet-0b00000000000000a', 'subnet-0b00000000000000b'],
        isolatedSubnetIds: ['subnet-0c00000000000000a', 'subnet-0c00000000000000b'],
      },
      loadBalancer: {
        mode: 'import',
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/phenom-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
        securityGroupId: 'sg-0a1b2c3d4e5f60718',
        loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/phenom-dev-alb/50dc6c495c0c9188',
        dnsName: 'phenom-dev-alb-123456789.us-east-1.elb.amazonaws.com',
        canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      },
      cluster: { mode: 'import', clusterName: 'phenom-dev-cluster' },
      database: {
        mode: 'import',
        endpoint: 'phenom-dev-postgres.abcdefghijkl.us-east-1.rds.amazonaws.com',
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-dev-rds-AbCdEf',
        securityGroupId: 'sg-0b1b2c3d4e5f60718',
        instanceIdentifier: 'phenom-dev-postgres',
      },
      userPool: { mode: 'import', userPoolId: 'us-east-1_AbCdEfGhI', domain: 'phenom-dev.auth.us-east-1.amazoncognito.com' },
    });
  },
};

/** Development with the MCP server on another backend than cdk.json's. */
export const mcpBackend = (backendType: 'synapse' | 'postgres'): SynthVariant => ({
  envName: 'development',
  options: { bundleLambdas: false },
  edit: (envs) => {
    envs.development.mcp = { backendType };
  },
});

/** Development with images.architecture and/or hasura.image set. */
export const imagesVariant = (architecture?: 'arm64' | 'x86_64', hasuraImage?: string): SynthVariant => ({
  envName: 'development',
  options: { bundleLambdas: false },
  edit: (envs) => {
    if (architecture) envs.development.images = { architecture };
    if (hasuraImage) envs.development.hasura = { mode: 'create', image: hasuraImage };
  },
});

/** The custom Hasura image the x86_64 variant rides along with (test/lib/constructs/container-image.test.ts). */
export const X86_HASURA_IMAGE = 'hasura/graphql-engine:v2.48.6';

/** Every variant the global setup synthesizes ahead of the test files. */
export const TEST_RUN_VARIANTS: readonly SynthVariant[] = [ADOPTING_PRODUCTION, IMPORT_EVERYTHING, mcpBackend('synapse'), mcpBackend('postgres'), imagesVariant('x86_64', X86_HASURA_IMAGE)];
