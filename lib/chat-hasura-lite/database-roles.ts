import { createHash } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct, IDependable } from 'constructs';
import { CLIENT_ROLE_NAMES, CLIENT_ROLES, ClientRoleName } from '../../chat-domain/client-roles';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import { sqlContentHash } from './migrations';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

export interface ChatDatabaseRolesProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The chat database, as the master user: only this step (and the migrations) connect with it. */
  readonly database: ChatFunctionDatabase;
  /** Each client role's login (lib/platform/client-role-secrets.ts): the step sets each role's password from it. */
  readonly clientRoleSecrets: Readonly<Record<ClientRoleName, secretsmanager.ISecret>>;
}

/**
 * The deploy step that makes one database role per client of the chat database
 * (chat-domain/client-roles.ts) as the master user (lambda/database-roles), each with the password
 * of its generated secret (lib/platform/client-role-secrets.ts). The step runs twice: `rolesStep` after the migrations and before any
 * client starts, and `afterMetadataStep` once the Hasura metadata step has made Hasura's event
 * log and triggers (the second run is the same idempotent work: then mcp gets INSERT on the event
 * log, which its inserts need because Hasura's trigger functions run as the inserting role). One
 * Lambda, two resources: the same grant logic serves both moments, and the metadata applier, which
 * holds the admin secret only, never needs the master secret.
 */
export class ChatDatabaseRoles extends Construct {
  public readonly function: ChatFunction;
  /** The first run: a client of the database starts after it. */
  public readonly rolesStep: ChatCustomResource;
  /** The run after the Hasura metadata step. */
  public readonly afterMetadataStep: ChatCustomResource;

  constructor(scope: Construct, id: string, props: ChatDatabaseRolesProps) {
    super(scope, id);
    const { database } = props;
    const secrets = props.clientRoleSecrets;
    this.function = new ChatFunction(this, 'Handler', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      database,
      entry: 'database-roles/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.databaseRoles,
      description: 'Creates the chat database client roles (hasura, link_preview, provisioner, mcp) from their secrets',
      timeout: Duration.seconds(DEPLOY_STEPS.databaseRoles.timeoutSeconds),
    });
    for (const secret of Object.values(secrets)) secret.grantRead(this.function.function);

    const properties = {
      RoleSecretArns: Object.fromEntries(CLIENT_ROLE_NAMES.map((client) => [client, secrets[client].secretArn])),
      // A changed spec (a grant added or dropped) re-runs both steps on the deploy that ships it.
      SpecHash: createHash('sha256').update(JSON.stringify(CLIENT_ROLES)).digest('hex'),
      // New migrations may add tables: the step re-runs and every role is narrowed to its spec on them.
      SqlHash: sqlContentHash(),
    };
    this.rolesStep = new ChatCustomResource(this, 'Roles', { onEvent: this.function, resourceType: 'Custom::ChatClientRoles', properties: { ...properties, Phase: 'roles' } });
    this.afterMetadataStep = new ChatCustomResource(this, 'AfterMetadata', {
      onEvent: this.function,
      resourceType: 'Custom::ChatClientRoles',
      properties: { ...properties, Phase: 'after-metadata' },
    });
    this.afterMetadataStep.node.addDependency(this.rolesStep);
  }

  /**
   * Orders the two runs: the first after `schema` (the migrations), the second after
   * `hasuraMetadata`; and every client in `clients` (a function, a service) after the first.
   */
  public order(props: { readonly schema: IDependable; readonly hasuraMetadata: IDependable; readonly clients: readonly IConstruct[] }): void {
    this.rolesStep.node.addDependency(props.schema);
    this.afterMetadataStep.node.addDependency(props.hasuraMetadata);
    for (const client of props.clients) client.node.addDependency(this.rolesStep);
  }
}
