import { Logger } from '@aws-lambda-powertools/logger';
import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { hasuraClaimsToAdd } from './claims';
import { parseTokenEvent } from './event';

const logger = new Logger();

/**
 * Cognito pre-token-generation trigger (V1_0): adds the Hasura claims to the ID token.
 * A malformed event is logged and returned unchanged rather than failing the sign-in:
 * the token then has no Hasura claims, so Hasura refuses it, while Synapse logins still work.
 */
export const handler = async (event: PreTokenGenerationTriggerEvent): Promise<PreTokenGenerationTriggerEvent> => {
  const parsed = parseTokenEvent(event);
  if (!parsed.ok) {
    logger.error('malformed pre-token-generation event; no Hasura claims added', { reason: parsed.reason });
    return event;
  }
  const { sub, groups } = parsed.value;
  event.response = {
    ...event.response,
    claimsOverrideDetails: {
      ...event.response?.claimsOverrideDetails,
      claimsToAddOrOverride: { ...event.response?.claimsOverrideDetails?.claimsToAddOrOverride, ...hasuraClaimsToAdd(sub, groups) },
    },
  };
  return event;
};
