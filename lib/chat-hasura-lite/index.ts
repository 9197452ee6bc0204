import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { Platform } from '../platform';
import { LinkPreviewWebhook } from './engine';
import { ChatHasura } from './hasura';
import { ChatMigrations } from './migrations';

export { ChatMigrations, sqlContentHash, SQL_DIR } from './migrations';
export { ChatHasura } from './hasura';
export { HasuraEngine, HASURA_PORT, HASURA_PUBLIC_PATH, HASURA_RULE_PRIORITY } from './engine';
export type { LinkPreviewWebhook } from './engine';

export interface ChatHasuraLiteProps {
  readonly config: ChatConfig;
  /** The shared VPC, RDS instance and secret the chat schema lives in. */
  readonly platform: Platform;
  /** The link-preview webhook (ChatLinkPreview) that the chat_messages insert trigger calls. */
  readonly linkPreview: LinkPreviewWebhook;
  /**
   * App client ids that Hasura requires in the ID token's `aud`.
   * @default - the audience is not checked (issuer, signature and expiry are)
   */
  readonly jwtAudience?: readonly string[];
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
  /** The engine (created or imported) and its metadata, applied after the migrations. */
  public readonly hasura: ChatHasura;
  /** The GraphQL endpoint for in-VPC clients such as the MCP server (see ChatHasura.graphqlEndpoint). */
  public readonly graphqlEndpoint: string;
  /** The engine's admin secret (plain string). */
  public readonly adminSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: ChatHasuraLiteProps) {
    super(scope, id);
    this.schema = new ChatMigrations(this, 'Migrations', { config: props.config, platform: props.platform });
    this.migrations = this.schema.resource;
    this.hasura = new ChatHasura(this, 'Hasura', { ...props, migrations: this.migrations });
    this.graphqlEndpoint = this.hasura.graphqlEndpoint;
    this.adminSecret = this.hasura.adminSecret;
  }
}
