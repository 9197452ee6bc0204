import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import type { HasuraEngineProps } from './engine';
import { ChatHasura, checkEngineChoice, ExistingHasuraEngine } from './hasura';
import { ChatMigrations } from './migrations';

export { ChatMigrations, sqlContentHash, SQL_DIR } from './migrations';
export type { ChatMigrationsProps } from './migrations';
export { ChatHasura } from './hasura';
export type { ChatHasuraProps, ExistingHasuraEngine } from './hasura';
export { HasuraMetadataApply } from './metadata';
export type { HasuraMetadataApplyProps } from './metadata';
export { HasuraEngine, HASURA_PORT, HASURA_PUBLIC_PATH, HASURA_RULE_PRIORITY } from './engine';
export type { LinkPreviewWebhook } from './engine';

/**
 * Exactly one of `engine` and `existingEngine`. The common function props and the VPC placement are
 * those of the deploy-time functions (the migrations runner and the metadata applier).
 */
export interface ChatHasuraLiteProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The chat database the schema is migrated into (the runner connects with its master secret). */
  readonly database: ChatFunctionDatabase;
  /**
   * What must exist before the migrations run (see ChatMigrationsProps.databaseReady).
   * @default - the database instance alone
   */
  readonly databaseReady?: IDependable;
  /**
   * Create the engine on Fargate with these props (its database is normally `database`).
   * @default - no engine is created; `existingEngine` names the one to use
   */
  readonly engine?: HasuraEngineProps;
  /**
   * Use an engine that runs elsewhere (see ExistingHasuraEngine for what it must already have).
   * @default - none; `engine` creates one
   */
  readonly existingEngine?: ExistingHasuraEngine;
}

/**
 * Implementation B of the seeds ("chat-hasura-lite"): the chat schema in the shared
 * RDS database, migrated during deploy; the Hasura engine and its metadata build on it.
 */
export class ChatHasuraLite extends Construct {
  public readonly schema: ChatMigrations;
  /**
   * The `Custom::ChatMigrations` resource. Anything that needs the chat tables
   * (Hasura metadata, the provisioner, the MCP server) depends on it.
   */
  public readonly migrations: ChatCustomResource;
  /** The engine (created or existing) and its metadata, applied after the migrations. */
  public readonly hasura: ChatHasura;
  /** The GraphQL endpoint for in-VPC clients such as the MCP server (see ChatHasura.graphqlEndpoint). */
  public readonly graphqlEndpoint: string;
  /** The engine's admin secret (plain string). */
  public readonly adminSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: ChatHasuraLiteProps) {
    // Before super() and the migrations: refused props leave nothing half-built in the tree.
    checkEngineChoice(id, props);
    super(scope, id);
    this.schema = new ChatMigrations(this, 'Migrations', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      database: props.database,
      databaseReady: props.databaseReady,
    });
    this.migrations = this.schema.resource;
    this.hasura = new ChatHasura(this, 'Hasura', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      migrations: this.migrations,
      engine: props.engine,
      existingEngine: props.existingEngine,
    });
    this.graphqlEndpoint = this.hasura.graphqlEndpoint;
    this.adminSecret = this.hasura.adminSecret;
  }
}
