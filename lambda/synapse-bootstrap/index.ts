import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { bootstrapSynapse } from './bootstrap';
import { MatrixClient } from './matrix-client';
import { secretsManagerCredentialStore } from './secrets-store';

/**
 * Custom resource isComplete handler, polled by the provider framework: while
 * Synapse's /health is not 200 it answers "not yet"; once healthy it runs the
 * bootstrap (admin bot, rooms, power levels) and completes with the room ids.
 */
const logger = new Logger();
const secretsManager = new SecretsManagerClient({});

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function secretString(arn: string): Promise<string> {
  // forceFetch: a deploy must see the current value, never a cached one.
  const value = await getSecret<string>(arn, { forceFetch: true });
  if (typeof value !== 'string' || value === '') throw new Error(`secret ${arn} has no string value`);
  return value;
}

export async function handler(event: CloudFormationCustomResourceEvent) {
  if (event.RequestType === 'Delete') return { IsComplete: true };

  const homeserverUrl = env('SYNAPSE_URL');
  const client = new MatrixClient({ baseUrl: homeserverUrl });
  if (!(await client.isHealthy())) {
    logger.info('Synapse is not healthy yet; polling again', { homeserverUrl });
    return { IsComplete: false };
  }

  const [sharedSecret, botPassword] = await Promise.all([secretString(env('REGISTRATION_SHARED_SECRET_ARN')), secretString(env('BOT_PASSWORD_SECRET_ARN'))]);
  const result = await bootstrapSynapse({
    client,
    sharedSecret,
    bot: { localpart: env('BOT_LOCALPART'), password: botPassword, displayName: 'Phenom Chat Bot' },
    store: secretsManagerCredentialStore(secretsManager, env('BOT_TOKEN_SECRET_ARN'), homeserverUrl),
    log: (message, details) => logger.info(message, details ?? {}),
  });
  logger.info('Synapse bootstrap complete', { ...result });

  const data: Record<string, string> = { BotUserId: result.botUserId };
  for (const room of result.rooms) data[`RoomId.${room.alias.slice(1, room.alias.indexOf(':'))}`] = room.roomId;
  return { IsComplete: true, Data: data };
}
