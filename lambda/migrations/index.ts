import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { lazyPool } from '../shared/database';
import { handlerDeadline } from '../../chat-domain/deploy-step-limits';
import { handleMigrationsEvent, MigrationsResponse } from './custom-resource';

const logger = new Logger();
// A migration can hold locks for a while on a busy database; fail the connect fast, not the statements.
const pool = lazyPool({ connectionTimeoutMillis: 10_000 });

/** onEvent of the Custom::ChatMigrations resource (CDK provider framework). */
export async function handler(event: CloudFormationCustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<MigrationsResponse> {
  logger.info('migrations event', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  try {
    return await handleMigrationsEvent(event, {
      deadline: handlerDeadline(context),
      async withClient(work) {
        const client = await (await pool()).connect();
        let failure: Error | undefined;
        try {
          return await work(client);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
          throw err;
        } finally {
          // A connection that saw a failed migration is discarded, not reused.
          client.release(failure);
        }
      },
      log: (message, details) => logger.info(message, details),
      warn: (message, details) => logger.warn(message, details),
    });
  } catch (err) {
    logger.error('migrations failed', { error: err as Error });
    throw err;
  }
}
