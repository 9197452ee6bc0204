import { randomBytes } from 'node:crypto';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import type { TestDatabase } from '../../support/postgres';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { startPhenomGraphqlStandIn, type PhenomGraphqlStandIn } from './phenom-graphql-stand-in';

/**
 * What the link-preview Lambda's real entry (lambda/link-preview/index.ts) needs around it: real
 * PostgreSQL 17 with the migrated schema, and the Phenom API and Secrets Manager as HTTP stand-ins on
 * 127.0.0.1, with the environment the function's configuration sets. Import the entry after this.
 */
export interface LinkPreviewEnvironment {
  readonly webhookSecretArn: string;
  readonly credentialsSecretArn: string;
  readonly db: TestDatabase;
  readonly phenom: PhenomGraphqlStandIn;
  readonly secrets: SecretsManagerStandIn;
  /** Drops the database, stops the stand-ins and puts process.env back. */
  close(): Promise<void>;
}

const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-link-preview-webhook-AbCdEf';
const CREDENTIALS_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-api-credentials-GhIjKl';

export interface LinkPreviewEnvironmentOptions {
  readonly databaseName: string;
  readonly phenomTimeoutMs: number;
  /** POWERTOOLS_LOG_LEVEL for the function. */
  readonly logLevel: string;
  /** @default random */
  readonly webhookSecret?: string;
  /** @default random */
  readonly phenomAdminSecret?: string;
}

export async function startLinkPreviewEnvironment(options: LinkPreviewEnvironmentOptions): Promise<LinkPreviewEnvironment & { webhookSecret: string }> {
  const webhookSecret = options.webhookSecret ?? randomBytes(24).toString('hex');
  const phenomAdminSecret = options.phenomAdminSecret ?? randomBytes(16).toString('hex');
  const savedEnv = { ...process.env };
  const [db, phenom, secrets] = await Promise.all([createMigratedDatabase(options.databaseName), startPhenomGraphqlStandIn({ adminSecret: phenomAdminSecret }), startSecretsManagerStandIn()]);
  secrets.put(WEBHOOK_SECRET_ARN, webhookSecret);
  secrets.put(CREDENTIALS_SECRET_ARN, JSON.stringify({ adminSecret: phenomAdminSecret, role: 'link_preview' }));
  Object.assign(process.env, {
    DATABASE_URL: db.url,
    WEBHOOK_SECRET_ARN,
    PHENOM_GRAPHQL_URL: phenom.url,
    PHENOM_CREDENTIALS_SECRET_ARN: CREDENTIALS_SECRET_ARN,
    PHENOM_TIMEOUT_MS: String(options.phenomTimeoutMs),
    PREVIEW_URL_TEMPLATE: 'https://thephenom.app/p/{phenomId}',
    CACHE_TTL_HOURS: '24',
    // As deployed: secrets come from the Parameters and Secrets extension (ChatLinkPreview sets secretsFromExtension).
    ...secrets.extensionEnv,
    POWERTOOLS_SERVICE_NAME: 'phenom-test-link-preview',
    POWERTOOLS_METRICS_NAMESPACE: 'PhenomChat',
    POWERTOOLS_LOG_LEVEL: options.logLevel,
  });
  await db.pool.query(`INSERT INTO users (id, username, display_name) VALUES ('alice', 'alice', 'Alice')`);
  await db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, 'alice' FROM chat_rooms WHERE name = 'Phenom Community'`);
  return {
    db,
    phenom,
    secrets,
    webhookSecret,
    webhookSecretArn: WEBHOOK_SECRET_ARN,
    credentialsSecretArn: CREDENTIALS_SECRET_ARN,
    async close() {
      process.env = savedEnv;
      await Promise.all([db.drop(), phenom.close(), secrets.close()]);
    },
  };
}

/** Inserts a chat message as Hasura would and returns the row as the event trigger carries it (row_to_json). */
export async function insertMessage(db: TestDatabase, messageType: 'text' | 'phenom_link', phenomId: string | null): Promise<Record<string, unknown>> {
  const { rows } = await db.pool.query<{ row: Record<string, unknown> }>(
    `INSERT INTO chat_messages (room_id, user_id, content, message_type, phenom_id)
     SELECT id, 'alice', $1, $2, $3 FROM chat_rooms WHERE name = 'Phenom Community'
     RETURNING row_to_json(chat_messages.*) AS row`,
    [phenomId ? `look at https://thephenom.app/p/${phenomId}` : 'hello', messageType, phenomId],
  );
  return rows[0]!.row;
}
