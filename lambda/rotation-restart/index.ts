import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { parseRotationRestarts } from '../../chat-domain/rotation-event';
import { rotatedSecretArn } from './rotation-event';

/**
 * EventBridge target: after Secrets Manager rotates one of the secrets in RESTARTS, a new deployment
 * of each ECS service (in CLUSTER) listed for that secret, because those services read the secret only
 * from their environment at start. The alternating-users rotation leaves the previous login working
 * until the next rotation, so the rolling restart has 30 days to finish. Every listed service is tried;
 * any failed UpdateService fails the invocation afterwards, and EventBridge's asynchronous invoke
 * retries it (a repeated forceNewDeployment of a service that did restart only restarts it again).
 */
const logger = new Logger();
const ecs = new ECSClient({ maxAttempts: 3 });

export interface RestartResult {
  readonly restarted: readonly string[];
}

export async function handler(event: unknown): Promise<RestartResult> {
  const cluster = process.env.CLUSTER;
  if (!cluster) throw new Error('CLUSTER is not set');
  const restarts = parseRotationRestarts(process.env.RESTARTS);
  const rotated = rotatedSecretArn(event);
  const entry = restarts.find((r) => r.secretArn === rotated);
  if (!entry) {
    // The rule matches the listed secrets only; anything else reaching here is someone else's event.
    logger.warn('a rotation of a secret no service here reads at start: nothing restarted', { rotated, listed: restarts.map((r) => r.secretArn) });
    return { restarted: [] };
  }
  const restarted: string[] = [];
  const failures: string[] = [];
  for (const service of entry.services) {
    try {
      const { service: updated } = await ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true }));
      logger.info('service restarting with the rotated secret', { cluster, ecsService: service, secret: rotated, serviceArn: updated?.serviceArn, deployments: updated?.deployments?.length });
      restarted.push(service);
    } catch (err) {
      logger.error('service not restarted', { cluster, ecsService: service, secret: rotated, error: err as Error });
      failures.push(`${service}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`not restarted after the rotation of ${rotated}: ${failures.join('; ')}`);
  return { restarted };
}
