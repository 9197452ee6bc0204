import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { Platform } from '../platform';
import { ChatMigrations } from './migrations';

export { ChatMigrations, sqlContentHash, SQL_DIR } from './migrations';

export interface ChatHasuraLiteProps {
  readonly config: ChatConfig;
  /** The shared VPC, RDS instance and secret the chat schema lives in. */
  readonly platform: Platform;
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

  constructor(scope: Construct, id: string, props: ChatHasuraLiteProps) {
    super(scope, id);
    this.schema = new ChatMigrations(this, 'Migrations', { config: props.config, platform: props.platform });
    this.migrations = this.schema.resource;
  }
}
