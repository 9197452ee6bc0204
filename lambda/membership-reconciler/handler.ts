import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { ExpiryReport } from '../../chat-clients/matrix-moderation-expiry';
import { LIFT_EXPIRED_MODERATION, parseReconcileRequest } from './event';
import { liftExpiredModeration } from './moderation-expiry';
import { reconcileAll, ReconcileDeps, ReconcileReport, reconcileUser } from './reconcile';

/** Metric names (namespace from POWERTOOLS_METRICS_NAMESPACE). */
export const RECONCILER_METRICS = {
  failed: 'MembershipReconcileFailed',
  joined: 'MembershipJoined',
  removed: 'MembershipRemoved',
  powerLevels: 'MembershipPowerLevelUpdates',
  serverAdminsPromoted: 'ServerAdminsPromoted',
  serverAdminsDemoted: 'ServerAdminsDemoted',
  moderationLifted: 'TimedModerationLifted',
  moderationLiftFailed: 'TimedModerationLiftFailed',
} as const;

/**
 * How long a run for one user waits for their Matrix account after an SSO sign-in. Synapse creates
 * it when the OIDC callback completes, a second or two after Cognito fires post-authentication;
 * 45 s keeps the whole run (wait + joins) inside the 60 s issue #13 asks for.
 */
export const MATRIX_ACCOUNT_WAIT_MS = 45_000;

export interface HandlerDeps extends Omit<ReconcileDeps, 'log'> {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The Synapse OIDC app client id: a sign-in through it is a Matrix login whose account may not exist yet. */
  readonly synapseOidcClientId?: string;
  /** @default MATRIX_ACCOUNT_WAIT_MS */
  readonly matrixAccountWaitMs?: number;
  /** Milliseconds since the epoch, for the expiry of timed mutes and bans. @default Date.now */
  readonly now?: () => number;
}

/**
 * The membership reconciler: every 5 minutes for the whole pool (EventBridge), and for one user
 * right after each sign-in (the post-authentication trigger invokes it asynchronously). It throws
 * when anything failed, after doing everything else, so the Errors alarm sees it and the
 * asynchronous invocation is retried (every step is idempotent).
 */
export function createReconcilerHandler(deps: HandlerDeps) {
  const { logger, metrics } = deps;
  const reconcileDeps: ReconcileDeps = { ...deps, log: (message, details) => logger.info(message, details) };
  return async (event: unknown): Promise<ReconcileReport | ExpiryReport> => {
    const request = parseReconcileRequest(event, deps.userPoolId);
    if (request.kind === LIFT_EXPIRED_MODERATION) return endTimedModeration(deps);
    const started = Date.now();
    const report =
      request.kind === 'reconcile-all'
        ? await reconcileAll(reconcileDeps)
        : await reconcileUser(reconcileDeps, {
            userName: request.userName,
            waitForMatrixAccountMs: deps.synapseOidcClientId && request.clientId === deps.synapseOidcClientId ? (deps.matrixAccountWaitMs ?? MATRIX_ACCOUNT_WAIT_MS) : 0,
          });
    const failures = [...report.hasura.failures, ...(report.synapse?.failures ?? [])];
    const summary = {
      scope: report.scope,
      users: report.users,
      elapsedMs: Date.now() - started,
      hasura: { ...report.hasura, failures: report.hasura.failures.length },
      synapse: report.synapse && {
        joined: report.synapse.joined,
        kicked: report.synapse.kicked,
        powerLevelUpdates: report.synapse.powerLevelUpdates,
        withoutAccount: report.synapse.withoutAccount.length,
        serverAdmins: report.synapse.serverAdmins,
        failures: report.synapse.failures.length,
      },
    };
    metrics.addMetric(RECONCILER_METRICS.joined, MetricUnit.Count, report.hasura.joined + (report.synapse?.joined.length ?? 0));
    metrics.addMetric(RECONCILER_METRICS.removed, MetricUnit.Count, report.hasura.left + report.hasura.removedUnknown + (report.synapse?.kicked.length ?? 0));
    metrics.addMetric(RECONCILER_METRICS.powerLevels, MetricUnit.Count, report.synapse?.powerLevelUpdates.length ?? 0);
    if (report.synapse?.serverAdmins) {
      metrics.addMetric(RECONCILER_METRICS.serverAdminsPromoted, MetricUnit.Count, report.synapse.serverAdmins.promoted.length);
      metrics.addMetric(RECONCILER_METRICS.serverAdminsDemoted, MetricUnit.Count, report.synapse.serverAdmins.demoted.length);
    }
    metrics.addMetric(RECONCILER_METRICS.failed, MetricUnit.Count, failures.length);
    metrics.publishStoredMetrics();
    if (failures.length > 0) {
      logger.error('membership reconciliation finished with failures', { ...summary, failures });
      throw new Error(`membership reconciliation: ${failures.length} step(s) failed, first: ${failures[0].what}: ${failures[0].error}`);
    }
    logger.info('membership reconciliation finished', summary);
    return report;
  };
}

/** The one-minute run: ends the timed mutes and bans whose time is up (Synapse only; Hasura Lite checks expiry when it reads). */
async function endTimedModeration(deps: HandlerDeps): Promise<ExpiryReport> {
  const { logger, metrics } = deps;
  let report: ExpiryReport = { lifted: [], cleared: [], failures: [] };
  if (deps.synapse) {
    try {
      report = await liftExpiredModeration(await deps.synapse(), deps.synapseRoomAliasSuffix ?? '', (deps.now ?? Date.now)());
    } catch (err) {
      report.failures.push({ what: 'find the chat rooms', error: err instanceof Error ? err.message : String(err) });
    }
  }
  metrics.addMetric(RECONCILER_METRICS.moderationLifted, MetricUnit.Count, report.lifted.length);
  metrics.addMetric(RECONCILER_METRICS.moderationLiftFailed, MetricUnit.Count, report.failures.length);
  metrics.publishStoredMetrics();
  if (report.failures.length > 0) {
    logger.error('ending timed mutes and bans finished with failures', { ...report });
    throw new Error(`ending timed mutes and bans: ${report.failures.length} step(s) failed, first: ${report.failures[0].what}: ${report.failures[0].error}`);
  }
  // Every minute: only a run that did something is worth a line.
  if (report.lifted.length + report.cleared.length > 0) logger.info('ended timed mutes and bans', { ...report });
  return report;
}
