import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { lazyPool } from '../shared/database';
import { createPostAuthenticationHandler, DATABASE_TIMEOUTS } from './provisioner';
import { lambdaReconcilerInvoker } from './reconciler-invoker';
import { createTriggerCognitoClient } from './user-groups';
// Loaded at init although lazyPool loads pg on first use: every sign-in queries the database, so
// deferring it would only move its require() (~15 ms CPU, bench:lambdas) out of Lambda's CPU-boosted
// init phase into the user's sign-in.
import 'pg';

const reconcilerFunction = process.env.RECONCILER_FUNCTION_NAME?.trim();

/** Cognito post-authentication trigger: provisions the chat user and their room memberships, and hands them to the reconciler. */
export const handler = createPostAuthenticationHandler({
  cognito: createTriggerCognitoClient(),
  pool: lazyPool(DATABASE_TIMEOUTS),
  logger: new Logger(),
  metrics: new Metrics(),
  reconciler: reconcilerFunction ? lambdaReconcilerInvoker(reconcilerFunction) : undefined,
});
