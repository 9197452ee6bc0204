import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import type { Pool, PoolConfig } from 'pg';
import { entitlementsFor } from '../../chat-domain/groups';
import { applyHasuraEntitlements } from '../shared/hasura-membership';
import { parsePostAuthenticationEvent } from './event';
import { listUserGroups } from './user-groups';

/** What the trigger hands the membership reconciler (lambda/membership-reconciler/event.ts). */
export interface ReconcileUserPayload {
  readonly kind: 'reconcile-user';
  readonly userPoolId: string;
  readonly userName: string;
  readonly clientId?: string;
}

/** Starts the membership reconciler for one user without waiting for it (Lambda InvocationType Event). */
export type ReconcilerInvoker = (payload: ReconcileUserPayload, abortSignal: AbortSignal) => Promise<void>;

/**
 * Cognito fails the sign-in when a trigger throws or runs past its fixed 5 s
 * timeout, and that 5 s also covers a cold start (~1 s in the VPC). All the work
 * must therefore finish, or be abandoned, within 3 s.
 */
export const PROVISIONING_BUDGET_MS = 3_000;

/** Each database call is bounded on its own as well, well inside the budget. */
export const DATABASE_TIMEOUTS: PoolConfig = {
  connectionTimeoutMillis: 1_000,
  // Server side: Postgres cancels a statement that runs longer (e.g. waiting on a lock).
  statement_timeout: 1_000,
  // Client side: covers a server that stops answering, which statement_timeout cannot.
  query_timeout: 1_500,
};

/** Metric names (namespace from POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS = { failed: 'ProvisioningFailed', malformed: 'ProvisioningMalformedEvent', reconcileNotStarted: 'ReconcilerInvokeFailed' } as const;

export interface ProvisionerDeps {
  readonly cognito: CognitoIdentityProviderClient;
  readonly pool: () => Promise<Pick<Pool, 'query'>>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Hands the user to the membership reconciler (Matrix rooms, and Hasura again with removals).
   * @default - no reconciler is started
   */
  readonly reconciler?: ReconcilerInvoker;
  /** @default PROVISIONING_BUDGET_MS */
  readonly budgetMs?: number;
}

class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`provisioning did not finish within ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * The post-authentication handler. It never throws and always returns the event:
 * a login must not fail because provisioning did. Failures are logged and counted;
 * the next login provisions again (every step is idempotent).
 */
export function createPostAuthenticationHandler(deps: ProvisionerDeps) {
  const budgetMs = deps.budgetMs ?? PROVISIONING_BUDGET_MS;
  const { logger, metrics } = deps;

  return async (event: PostAuthenticationTriggerEvent): Promise<PostAuthenticationTriggerEvent> => {
    const parsed = parsePostAuthenticationEvent(event);
    if (!parsed.ok) {
      logger.error('malformed post-authentication event; nothing provisioned', { reason: parsed.reason });
      metrics.addMetric(METRICS.malformed, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      return event;
    }
    const user = parsed.value;
    const started = Date.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DeadlineExceeded(budgetMs));
      }, budgetMs);
    });
    // The reconciler starts alongside, whatever happens here: if this provisioning fails, it heals
    // the rows a moment later; it also joins the Matrix rooms, which a trigger cannot wait for.
    const handOver = deps.reconciler
      ? deps.reconciler({ kind: 'reconcile-user', userPoolId: user.userPoolId, userName: user.userName, clientId: parsed.clientId }, controller.signal).then(
          () => undefined,
          (err: unknown) => {
            logger.error('could not start the membership reconciler; the scheduled run will reconcile this user', {
              userId: user.sub,
              error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
            });
            metrics.addMetric(METRICS.reconcileNotStarted, MetricUnit.Count, 1);
            metrics.publishStoredMetrics();
          },
        )
      : Promise.resolve();
    const work = (async () => {
      const groups = await listUserGroups(deps.cognito, user, controller.signal);
      const entitlements = entitlementsFor(groups);
      const pool = await deps.pool();
      const result = await applyHasuraEntitlements(pool, user, entitlements);
      return { groups, entitlements, result };
    })();
    // If the deadline wins, the abandoned work must not surface as an unhandled rejection.
    work.catch(() => undefined);

    try {
      const { entitlements, result } = await Promise.race([work, deadline]);
      logger.info('provisioned chat user', {
        userId: user.sub,
        role: entitlements.memberRole,
        rooms: entitlements.rooms,
        joined: result.joined,
        roleChanged: result.roleChanged,
        left: result.left,
        elapsedMs: Date.now() - started,
      });
    } catch (err) {
      logger.error('provisioning failed; the sign-in continues', {
        userId: user.sub,
        elapsedMs: Date.now() - started,
        error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
      });
      metrics.addMetric(METRICS.failed, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    } finally {
      // The hand-over is bounded by the same deadline (its request is aborted with the rest).
      await Promise.race([handOver, deadline.catch(() => undefined)]);
      clearTimeout(timer);
    }
    return event;
  };
}
