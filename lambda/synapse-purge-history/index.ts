import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { adminTokenFromSecret, purgeConfigFromEnv } from './config';
import { purgeHistory, PurgeHistoryResult } from './purge';
import { SynapseAdminClient } from './synapse-admin-client';

const logger = new Logger();
const config = purgeConfigFromEnv(process.env);

/** Leave this much of the invocation for logging and returning after the last poll. */
const SAFETY_MARGIN_MS = 15_000;

/**
 * Daily (EventBridge) purge of Synapse room history older than the configured
 * retention. Throws when any room failed, so the Lambda Errors alarm fires and
 * EventBridge's retry runs it again (which is safe).
 */
export async function handler(event: Partial<ScheduledEvent>, context: Context): Promise<PurgeHistoryResult> {
  logger.addContext(context);
  logger.info('invoked', { source: event.source, time: event.time });
  // Cached for 5 minutes by Powertools: a rotated token is picked up on the next run.
  const secretValue = await getSecret<string>(config.adminTokenSecretArn, { maxAge: 300 });
  const client = new SynapseAdminClient({ baseUrl: config.synapseUrl, accessToken: adminTokenFromSecret(secretValue, config.adminTokenSecretKey) });
  const roomCount = config.rooms.kind === 'aliases' ? config.rooms.aliases.length : 10;
  const result = await purgeHistory({
    client,
    rooms: config.rooms,
    retentionDays: config.retentionDays,
    logger,
    maxWaitMs: Math.max(5_000, Math.min(120_000, (context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS) / roomCount)),
  });
  const failed = result.rooms.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) {
    throw new Error(`history purge failed for ${failed.map((r) => `${r.room} (${r.error})`).join(', ')}`);
  }
  return result;
}
