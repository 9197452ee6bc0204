import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { POSTGRES_PORT } from './security-groups';

/**
 * Every ASCII punctuation character: rotated passwords are letters and digits only, like the generated
 * ones, because they go into SQL literals (ensureLoginRole), a connection URL (Hasura's start script)
 * and YAML (Synapse's config) without any escaping question.
 */
export const ALPHANUMERIC_ONLY = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ';

/** How often a database secret rotates when the caller says nothing (Secrets Manager's own default). */
export const DEFAULT_ROTATION_INTERVAL = Duration.days(30);

/** Where the hosted rotation function runs: a subnet with a path to Secrets Manager, and into RDS. */
export interface RotationNetworkProps {
  readonly vpc: ec2.IVpc;
  /** Subnets with egress (NAT): the function calls the regional Secrets Manager endpoint. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The database: its SG admits the rotation function on the PostgreSQL port. */
  readonly database: ec2.IConnectable;
  /** @default DEFAULT_ROTATION_INTERVAL */
  readonly automaticallyAfter?: Duration;
}

export interface DatabaseRoleSecretProps {
  readonly username: string;
  readonly instance: rds.IDatabaseInstance;
  readonly databaseName: string;
  /** The master credentials, which the alternating-users rotation creates the `_clone` user and sets passwords with. */
  readonly masterSecret: secretsmanager.ISecret;
}

/**
 * The generateSecretString of a database role's secret in the shape the hosted PostgreSQL rotation
 * reads (aws-samples/aws-secrets-manager-rotation-lambdas, RotationMultiUser: engine, host, port,
 * dbname, username, password, masterarn), so rotateDatabaseRoleSecret can be attached to it.
 */
export function databaseRoleSecretString(props: DatabaseRoleSecretProps): secretsmanager.SecretStringGenerator {
  return {
    secretStringTemplate: JSON.stringify({
      engine: 'postgres',
      host: props.instance.dbInstanceEndpointAddress,
      port: props.instance.dbInstanceEndpointPort,
      dbname: props.databaseName,
      username: props.username,
      masterarn: props.masterSecret.secretArn,
    }),
    generateStringKey: 'password',
    passwordLength: 40,
    excludePunctuation: true,
  };
}

export interface DatabaseRoleRotationProps extends RotationNetworkProps {
  /** The role's secret, shaped by databaseRoleSecretString. */
  readonly secret: secretsmanager.ISecret;
  readonly masterSecret: secretsmanager.ISecret;
  /**
   * The step that creates the role with the secret's password: the rotation first logs in as the
   * current user (a guard against a confused deputy), so it must not run before that step.
   */
  readonly roleCreatedBy: readonly IDependable[];
}

/**
 * Rotates a database role's secret with Secrets Manager's hosted alternating-users rotation: each
 * rotation gives the other of `<role>` and `<role>_clone` a new password and makes it current, so the
 * credentials a client still holds keep working until the rotation after (30 days by default) while
 * clients re-read the secret (on 28P01: chat-clients/postgres-login.ts). The master secret creates the
 * clone, as a member of the role, on the first rotation.
 */
export function rotateDatabaseRoleSecret(scope: Construct, id: string, props: DatabaseRoleRotationProps): secretsmanager.RotationSchedule {
  const hostedRotation = secretsmanager.HostedRotation.postgreSqlMultiUser({
    masterSecret: props.masterSecret,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    excludeCharacters: ALPHANUMERIC_ONLY,
  });
  return scheduleRotation(scope, id, props.secret, hostedRotation, props, `PostgreSQL from the ${id} rotation`, props.roleCreatedBy);
}

/**
 * Rotates the master secret in place (hosted single-user rotation: it logs in as the master and
 * changes its own password). Kept as the stack's own secret rather than RDS's managed password: that
 * would replace the secret (a new ARN for every master consumer, the old secret deleted) and hold no
 * host, which the alternating-users rotation of every role secret reads from `masterarn`.
 */
export function rotateMasterSecret(scope: Construct, id: string, secret: secretsmanager.ISecret, props: RotationNetworkProps): secretsmanager.RotationSchedule {
  const hostedRotation = secretsmanager.HostedRotation.postgreSqlSingleUser({ vpc: props.vpc, vpcSubnets: props.vpcSubnets });
  return scheduleRotation(scope, id, secret, hostedRotation, props, 'PostgreSQL from the master secret rotation', []);
}

function scheduleRotation(
  scope: Construct,
  id: string,
  secret: secretsmanager.ISecret,
  hostedRotation: secretsmanager.HostedRotation,
  props: RotationNetworkProps,
  ruleDescription: string,
  after: readonly IDependable[],
): secretsmanager.RotationSchedule {
  const schedule = new secretsmanager.RotationSchedule(scope, id, {
    secret,
    hostedRotation,
    automaticallyAfter: props.automaticallyAfter ?? DEFAULT_ROTATION_INTERVAL,
  });
  // The SG exists once the schedule has bound the rotation to the secret.
  props.database.connections.allowFrom(hostedRotation, ec2.Port.tcp(POSTGRES_PORT), ruleDescription);
  // On the schedule resource alone: its SG is its child, and RDS admitting that SG is something the
  // role-creating steps themselves wait for (they wait for every RDS ingress rule), so a dependency of
  // the whole construct would be a cycle.
  for (const dependency of after) (schedule.node.defaultChild as Construct).node.addDependency(dependency);
  return schedule;
}
