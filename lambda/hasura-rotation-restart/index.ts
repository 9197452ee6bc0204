import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { rotatedSecretArn } from './rotation-event';

/**
 * EventBridge target: after Secrets Manager rotates the Hasura role's secret (SECRET_ARN), a new
 * deployment of the Hasura service (CLUSTER, SERVICE), because the engine reads its database URL
 * only from its environment at start. The alternating-users rotation leaves the previous login
 * working until the next rotation, so the rolling restart has 30 days to finish. A failed
 * UpdateService fails the invocation, and EventBridge's asynchronous invoke retries it.
 */
const logger = new Logger();
const ecs = new ECSClient({ maxAttempts: 3 });

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export async function handler(event: unknown): Promise<{ restarted: boolean }> {
  const cluster = env('CLUSTER');
  const service = env('SERVICE');
  const secretArn = env('SECRET_ARN');
  const rotated = rotatedSecretArn(event);
  if (rotated !== secretArn) {
    // The rule matches this secret only; anything else reaching here is someone else's event.
    logger.warn('a rotation of another secret: Hasura not restarted', { rotated, expected: secretArn });
    return { restarted: false };
  }
  const { service: updated } = await ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true }));
  logger.info('Hasura restarting with the rotated secret', { cluster, ecsService: service, serviceArn: updated?.serviceArn, deployments: updated?.deployments?.length });
  return { restarted: true };
}
