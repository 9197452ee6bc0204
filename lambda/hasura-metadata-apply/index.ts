import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { createHandler } from './handler';

/**
 * Custom resource (provider framework onEvent) that applies hasura-metadata/ to the
 * engine through the metadata API. The directory is copied next to this file at
 * bundling time (lib/chat-hasura-lite/metadata.ts).
 */
const logger = new Logger();
const adminSecretArn = process.env.HASURA_ADMIN_SECRET_ARN;

export const handler = createHandler({
  metadataDir: process.env.HASURA_METADATA_DIR ?? join(__dirname, 'hasura-metadata'),
  adminSecret: async () => {
    if (!adminSecretArn) throw new Error('HASURA_ADMIN_SECRET_ARN is not set');
    // Read on every deploy (no cache): a rotated admin secret must be picked up at once.
    const value = await getSecret<string>(adminSecretArn, { forceFetch: true });
    if (typeof value !== 'string' || value === '') throw new Error(`the admin secret ${adminSecretArn} has no string value`);
    return value;
  },
  log: (message, details) => logger.info(message, details ?? {}),
});
