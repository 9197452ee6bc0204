import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { lazyPool } from '../shared/database';
import { readSecretString as readSecret } from '../shared/secret-string';
import { createPhenomClient } from './phenom-client';
import { phenomCredentialHeaders } from './phenom-credentials';
import { PreviewRepository } from './preview-repository';
import { resolvePreview } from './resolve-preview';
import { previewUrlFor, readSettings } from './settings';
import { createWebhookHandler } from './webhook-handler';

/**
 * Hasura event-trigger webhook (function URL) that resolves a phenom_link chat
 * message into a link_previews row. Everything below runs once per execution
 * environment; the handler itself is in webhook-handler.ts.
 */
const settings = readSettings(process.env);
const logger = new Logger();
const metrics = new Metrics();

/** Secrets are cached for 5 minutes: a rotated value is picked up without a redeploy. */
const SECRET_MAX_AGE_SECONDS = 300;

const readSecretString = (arn: string): Promise<string> => readSecret(arn, { maxAgeSeconds: SECRET_MAX_AGE_SECONDS });

const credentialsArn = settings.phenomCredentialsSecretArn;
const phenom = createPhenomClient({
  url: settings.phenomGraphqlUrl,
  timeoutMs: settings.phenomTimeoutMs,
  credentialHeaders: credentialsArn ? async () => phenomCredentialHeaders(JSON.parse(await readSecretString(credentialsArn))) : undefined,
});
const repository = new PreviewRepository(lazyPool());

export const handler = createWebhookHandler({
  webhookSecret: () => readSecretString(settings.webhookSecretArn),
  resolve: (phenomId) =>
    resolvePreview(phenomId, {
      repository,
      phenom,
      previewUrl: previewUrlFor(settings.previewUrlTemplate),
      ttlHours: settings.cacheTtlHours,
      metrics,
    }),
  logger,
  metrics,
});
