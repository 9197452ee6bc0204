import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { DEPLOY_STEPS, DEPLOY_STEP_SDK_CONFIG, handlerDeadline } from '../../chat-domain/deploy-step-limits';
import type { BootstrapStartData } from '../synapse-bootstrap-start';
import { bootstrapSynapse } from './bootstrap';
import { MatrixClient } from '../../chat-clients/matrix-client';
import { secretsManagerCredentialStore } from './secrets-store';

/**
 * Custom resource isComplete handler, polled by the provider framework: while
 * Synapse's /health is not 200 it answers "not yet", until DEPLOY_STEPS.synapseBootstrap's
 * wait limit after the start step, then fails the deploy; once healthy it runs the
 * bootstrap (admin bot, rooms, power levels) and completes with the room ids.
 */
const logger = new Logger();
const secretsManager = new SecretsManagerClient(DEPLOY_STEP_SDK_CONFIG);
const WAIT_LIMIT_MS = DEPLOY_STEPS.synapseBootstrap.totalTimeoutSeconds * 1000;

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

/** The end of the wait for Synapse: the start step's stamp plus the wait limit. */
function waitEnd(event: CloudFormationCustomResourceEvent & { Data?: Partial<BootstrapStartData> }): number {
  const started = Date.parse(event.Data?.WaitStartedAt ?? '');
  if (Number.isNaN(started)) {
    throw new Error(`the isComplete event has no valid Data.WaitStartedAt (got ${JSON.stringify(event.Data?.WaitStartedAt)}); it must come from the synapse-bootstrap-start step`);
  }
  return started + WAIT_LIMIT_MS;
}

export async function handler(event: CloudFormationCustomResourceEvent & { Data?: Partial<BootstrapStartData> }, context: Pick<Context, 'getRemainingTimeInMillis'>) {
  if (event.RequestType === 'Delete') return { IsComplete: true };

  const waitUntil = waitEnd(event);
  const homeserverUrl = env('SYNAPSE_URL');
  // Every call is cut to the Lambda's remaining time, so a slow homeserver fails this poll with a message.
  const client = new MatrixClient({ baseUrl: homeserverUrl, deadline: handlerDeadline(context) });
  if (!(await client.isHealthy())) {
    if (Date.now() >= waitUntil) {
      throw new Error(
        `Synapse did not answer 200 on ${homeserverUrl}/health within ${WAIT_LIMIT_MS / 60_000} minutes of this deploy; ` +
          "check the Synapse ECS service's events and its task logs (database, homeserver config, secrets)",
      );
    }
    logger.info('Synapse is not healthy yet; polling again', { homeserverUrl, waitingSince: event.Data?.WaitStartedAt });
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
