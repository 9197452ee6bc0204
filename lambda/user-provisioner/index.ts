import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { lazyPool } from '../shared/database';
import { createPostAuthenticationHandler, DATABASE_TIMEOUTS } from './provisioner';
import { createTriggerCognitoClient } from './user-groups';

/** Cognito post-authentication trigger: provisions the chat user and their room memberships. */
export const handler = createPostAuthenticationHandler({
  cognito: createTriggerCognitoClient(),
  pool: lazyPool(DATABASE_TIMEOUTS),
  logger: new Logger(),
  metrics: new Metrics(),
});
