/**
 * The time limits of every deploy-time step (the app's CloudFormation custom resources), in
 * one place, because they only work as a set. Each step runs as our handler Lambda, invoked
 * by aws-cdk-lib's provider framework Lambda, which CloudFormation waits on. If our handler
 * outlives the framework, or the framework outlives CloudFormation's wait, nobody reports the
 * result and CloudFormation sits out its full ServiceTimeout (an hour by default) before it can
 * roll back. So, from the inside out:
 * - the handler stops its own work (statement_timeout, fetch timeouts, a deadline) before its
 *   Lambda timeout, so it fails with its own message instead of being killed;
 * - the handler's Lambda timeout leaves the framework time to get its answer and report it;
 * - a polled step (isComplete) gives up within `totalTimeoutSeconds` of wall time;
 * - every resource sets a ServiceTimeout just above its step's worst case, well inside the hour.
 * lib/constructs/chat-custom-resource.ts enforces these relations at synth, and
 * test/lib/deploy-step-limits.test.ts checks them on the synthesized templates.
 *
 * Plain numbers with no CDK import: the handlers import this module too.
 */

/** The provider framework's own functions run for 15 minutes (FRAMEWORK_HANDLER_TIMEOUT in aws-cdk-lib custom-resources/lib/provider-framework/provider.ts). */
export const PROVIDER_FUNCTION_TIMEOUT_SECONDS = 900;

/**
 * When the framework's first invoke of our handler fails (a function just created in a VPC is
 * still Pending), it waits up to 300 s for it to become Active and invokes it once more
 * (waitUntilFunctionActiveV2 with maxWaitTime 300 in provider-framework/runtime/outbound.ts).
 */
export const PROVIDER_ACTIVATION_WAIT_SECONDS = 300;

/** The framework's cold start, its own calls and its PUT of the response to CloudFormation (5 tries, 1 s apart). */
export const PROVIDER_MARGIN_SECONDS = 60;

/** CloudFormation's limit for a custom resource to answer (the ServiceTimeout property: at most, and by default, 3600 s). */
export const CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS = 3600;

/** How far inside CloudFormation's limit every step's worst case must end: "well inside" the hour. */
export const CLOUDFORMATION_HEADROOM_SECONDS = 600;

/** The longest handler timeout the framework reliably outlives: 900 − 300 − 60 = 540 s. */
export const MAX_HANDLER_TIMEOUT_SECONDS = PROVIDER_FUNCTION_TIMEOUT_SECONDS - PROVIDER_ACTIVATION_WAIT_SECONDS - PROVIDER_MARGIN_SECONDS;

/** What a handler keeps back from its remaining Lambda time to stop, build its error and return it. */
export const HANDLER_REPORT_MARGIN_MS = 20_000;

/** The Lambda timeout (and, for a polled step, the polling) of each deploy-time step. */
export const DEPLOY_STEPS = {
  /**
   * As long as the framework allows: a migration that rewrites a large chat_messages table may
   * take minutes. Each file gets what is left of it as its statement and transaction timeout
   * (sql/README.md, "Time budget").
   */
  migrations: { timeoutSeconds: MAX_HANDLER_TIMEOUT_SECONDS },
  /** The engine may still be starting on a first deploy: most of this is waiting for /healthz. */
  hasuraMetadata: { timeoutSeconds: MAX_HANDLER_TIMEOUT_SECONDS },
  /** A few catalog statements and one CREATE DATABASE from template0: seconds, with room for a slow connect. */
  /**
   * The per-client database roles: four roles, their grants and (once) the hand-over of Hasura's
   * catalog, each a few dozen statements; the lock timeout makes a grant that waits behind a long
   * query on a chat table fail with Postgres' error instead of the Lambda's timeout.
   */
  databaseRoles: { timeoutSeconds: 120, statementTimeoutMs: 60_000, lockTimeoutMs: 30_000, connectTimeoutMs: 10_000 },
  synapseDatabase: { timeoutSeconds: 120, statementTimeoutMs: 60_000, lockTimeoutMs: 30_000, connectTimeoutMs: 10_000 },
  /**
   * The start step only names the resource. Each poll checks /health and, once Synapse answers,
   * runs the bootstrap (a dozen small admin API calls). The polling ends after 30 minutes of wall
   * time: an ECS service normally reaches steady state in a few.
   */
  synapseBootstrap: { startTimeoutSeconds: 10, timeoutSeconds: 120, queryIntervalSeconds: 15, totalTimeoutSeconds: 1800 },
  /** A handful of Cognito and Secrets Manager calls, each bounded by DEPLOY_STEP_SDK_CONFIG. */
  machineAccount: { timeoutSeconds: 60 },
  userPoolTriggers: { timeoutSeconds: 60 },
} as const;

/**
 * AWS SDK client settings for deploy-time handlers. The SDK sets no request timeout by
 * default, so a hung call would run into the Lambda timeout; three attempts of at most 7 s
 * each leave a step of a few calls inside its 60 s.
 */
export const DEPLOY_STEP_SDK_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;

/** Epoch ms by which a handler must have stopped working: its remaining Lambda time less the report margin. */
export function handlerDeadline(context: { getRemainingTimeInMillis(): number }, marginMs: number = HANDLER_REPORT_MARGIN_MS): number {
  return Date.now() + context.getRemainingTimeInMillis() - marginMs;
}

/** Raised when a step has used up its time; the message says what it was doing. */
export class DeadlineExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * The timeout for one outbound call: `maxMs`, cut to what is left before `deadline`.
 * Throws DeadlineExceededError, naming `what`, once nothing is left.
 */
export function callTimeoutMs(maxMs: number, deadline: number | undefined, what: string): number {
  if (deadline === undefined) return maxMs;
  const left = deadline - Date.now();
  if (left <= 0) throw new DeadlineExceededError(`${what}: this deploy step ran out of time before the call (its Lambda timeout less ${HANDLER_REPORT_MARGIN_MS / 1000} s to report)`);
  return Math.min(maxMs, left);
}
