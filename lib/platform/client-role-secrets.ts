import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct, IDependable } from 'constructs';
import { CLIENT_ROLE_NAMES, ClientRoleName } from '../../chat-domain/client-roles';
import type { ChatFunctionDatabase } from '../constructs/chat-function';
import { rotateDatabaseRoleSecret } from './secret-rotation';

export interface ClientRoleSecretsProps {
  /** Secret names are `<prefix>-db-<client>` (`phenom-production-db-link-preview`). */
  readonly prefix: string;
  /** The chat database, whose master secret each role secret names (masterarn) and whose instance it is attached to. */
  readonly database: ChatFunctionDatabase;
  /** Where the rotation functions run. */
  readonly vpc: ec2.IVpc;
  /** Subnets with egress (the rotation calls Secrets Manager's regional endpoint). */
  readonly vpcSubnets: ec2.SubnetSelection;
}

/**
 * A generated secret per client role of the chat database (chat-domain/client-roles.ts); the
 * roles step (lib/chat-hasura-lite/database-roles.ts) makes each role with its secret's password,
 * and each client reads only its own.
 *
 * Each secret is what AWS's PostgreSQL rotation functions read: an rds.DatabaseSecret attached to
 * the instance (engine, host, port, dbInstanceIdentifier; dbname, username, password; masterarn
 * for the multi-user scheme). Each rotates every 30 days with alternating users, `<role>` and
 * `<role>_clone`: the roles step makes the clone and follows whichever the secret names, clients
 * re-read their secret when the database refuses the one they hold (chat-clients/postgres-login.ts),
 * and Hasura, which reads its URL only at start, is restarted (lib/chat-hasura-lite/rotation-restart.ts).
 * The stack orders the rotations after the roles step (`rotateAfter`).
 */
export class ClientRoleSecrets extends Construct {
  /** Each client's login, keyed by client. */
  public readonly secrets: Readonly<Record<ClientRoleName, secretsmanager.ISecret>>;
  /** The database as each client connects to it: its own secret in place of the master's. */
  public readonly databases: Readonly<Record<ClientRoleName, ChatFunctionDatabase>>;
  /** Each secret's rotation schedule. */
  public readonly rotations: Readonly<Record<ClientRoleName, secretsmanager.RotationSchedule>>;

  constructor(scope: Construct, id: string, props: ClientRoleSecretsProps) {
    super(scope, id);
    const { database } = props;
    const secrets = {} as Record<ClientRoleName, secretsmanager.ISecret>;
    for (const client of CLIENT_ROLE_NAMES) {
      const secret = new rds.DatabaseSecret(this, clientRoleId(client), {
        username: client,
        dbname: database.databaseName,
        secretName: `${props.prefix}-db-${client.replace(/_/g, '-')}`,
        masterSecret: database.secret,
      });
      secrets[client] = secret.attach(database.instance);
    }
    this.secrets = secrets;
    this.rotations = Object.fromEntries(
      CLIENT_ROLE_NAMES.map((client) => [
        client,
        rotateDatabaseRoleSecret(this, `${clientRoleId(client)}Rotation`, {
          secret: secrets[client],
          masterSecret: database.secret,
          vpc: props.vpc,
          vpcSubnets: props.vpcSubnets,
          database,
          roleCreatedBy: [],
        }),
      ]),
    ) as Record<ClientRoleName, secretsmanager.RotationSchedule>;
    this.databases = Object.fromEntries(CLIENT_ROLE_NAMES.map((client) => [client, databaseWithSecret(database, secrets[client])])) as Record<ClientRoleName, ChatFunctionDatabase>;
  }

  /**
   * No rotation before `step` has made the roles: the rotation first logs in as the user the secret
   * names (a guard against a confused deputy). On the schedule resources, as rotateDatabaseRoleSecret does.
   */
  public rotateAfter(step: IDependable): void {
    for (const schedule of Object.values(this.rotations)) (schedule.node.defaultChild as Construct).node.addDependency(step);
  }
}

/** `database` as a client connects to it: the same instance, name and security group, `secret` for its credentials. */
export function databaseWithSecret(database: ChatFunctionDatabase, secret: secretsmanager.ISecret): ChatFunctionDatabase {
  return {
    instance: database.instance,
    databaseName: database.databaseName,
    connections: database.connections,
    secret,
    grantReadCredentials: (grantee) => secret.grantRead(grantee),
  };
}

/** A client's part of a construct id: `link_preview` is `LinkPreview`. */
export function clientRoleId(client: ClientRoleName): string {
  return client.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase());
}
