import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { InvalidPayloadError, parseLinkPreviewRequest } from './event-payload';
import { UpstreamError } from './phenom-client';
import type { ResolveOutcome } from './resolve-preview';
import { WEBHOOK_SECRET_HEADER } from '../../chat-domain/headers';
import { secretMatches } from './webhook-auth';

export interface WebhookHandlerDeps {
  /** The expected shared secret (cached by the caller). */
  readonly webhookSecret: () => Promise<string>;
  readonly resolve: (phenomId: string) => Promise<ResolveOutcome>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** First retry after 10 s, doubling per retry, at most 5 minutes apart. */
const RETRY_BASE_SECONDS = 10;
const RETRY_MAX_SECONDS = 300;

const json = (statusCode: number, body: Record<string, unknown>, headers: Record<string, string> = {}): LambdaFunctionURLResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * Hasura retries every non-2xx answer at retry_conf.interval_sec, but honours a
 * `Retry-After` header instead, which gives exponential backoff. Hasura keeps
 * retrying while that header is present even after num_retries is used up, so
 * it is only sent while retries remain (delivery_info.current_retry < max_retries).
 */
function retryAfter(body: string | undefined, isBase64Encoded: boolean | undefined): Record<string, string> {
  try {
    const text = body && isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const info = (JSON.parse(text ?? '') as { delivery_info?: { current_retry?: unknown; max_retries?: unknown } }).delivery_info;
    const current = info?.current_retry;
    const max = info?.max_retries;
    if (typeof current !== 'number' || typeof max !== 'number' || current >= max) return {};
    return { 'retry-after': String(Math.min(RETRY_BASE_SECONDS * 2 ** current, RETRY_MAX_SECONDS)) };
  } catch {
    return {};
  }
}

/**
 * The webhook Hasura's chat_messages event trigger calls through the function URL
 * (payload format 2.0). Order matters: authenticate before reading the body, so
 * an unauthenticated caller learns nothing and causes no work.
 */
export function createWebhookHandler(deps: WebhookHandlerDeps): (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult> {
  const { logger, metrics } = deps;

  async function handle(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
    const presented = event.headers?.[WEBHOOK_SECRET_HEADER];
    if (!secretMatches(presented, await deps.webhookSecret())) {
      metrics.addMetric('Unauthorized', MetricUnit.Count, 1);
      logger.warn('rejected a call without the webhook secret', { sourceIp: event.requestContext?.http?.sourceIp, secretPresent: presented !== undefined });
      return json(401, { error: 'unauthorized', message: `missing or wrong ${WEBHOOK_SECRET_HEADER} header` });
    }
    const method = event.requestContext?.http?.method;
    if (method !== 'POST') return json(405, { error: 'method_not_allowed', message: 'Hasura event triggers POST their payload' }, { allow: 'POST' });

    let request;
    try {
      request = parseLinkPreviewRequest(event.body, event.isBase64Encoded);
    } catch (err) {
      if (!(err instanceof InvalidPayloadError)) throw err;
      metrics.addMetric('InvalidPayload', MetricUnit.Count, 1);
      logger.warn('rejected a malformed payload', { reason: err.message });
      return json(400, { error: 'invalid_payload', message: err.message });
    }
    logger.appendKeys({ hasuraEventId: request.eventId });
    if (request.action === 'ignore') {
      metrics.addMetric('Ignored', MetricUnit.Count, 1);
      return json(200, { status: 'ignored', reason: request.reason });
    }

    try {
      const outcome = await deps.resolve(request.phenomId);
      logger.info('link preview handled', { phenomId: request.phenomId, messageId: request.messageId, status: outcome.status });
      if (outcome.status === 'not_found') return json(200, { status: 'not_found', phenomId: request.phenomId, reason: outcome.reason });
      return json(200, { status: outcome.status, phenomId: request.phenomId, url: outcome.preview.url, expiresAt: outcome.preview.expiresAt });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      metrics.addMetric('UpstreamFailure', MetricUnit.Count, 1);
      // `message` is a reserved Powertools key (dropped with a warning), so the upstream's sentence goes in errorMessage, which the failures query shows.
      logger.warn('the Phenom API failed; Hasura will retry', { phenomId: request.phenomId, failure: err.failure, errorMessage: err.message });
      const status = err.failure === 'timeout' ? 504 : 502;
      return json(status, { error: 'upstream_unavailable', message: err.message }, retryAfter(event.body, event.isBase64Encoded));
    }
  }

  return async (event) => {
    try {
      return await handle(event);
    } catch (err) {
      // Database or secret read failed: answer 500 (Hasura retries) without internals in the body.
      metrics.addMetric('InternalError', MetricUnit.Count, 1);
      // errorType and errorMessage are the fields the failures query (lib/operations/queries.ts) shows; error keeps the stack.
      logger.error('link preview failed', { errorType: (err as Error).name, errorMessage: (err as Error).message, error: err as Error });
      const message = 'the link preview could not be processed; see the function logs';
      return json(500, { error: 'internal_error', message }, retryAfter(event.body, event.isBase64Encoded));
    } finally {
      logger.resetKeys();
      // Skip the flush (and Powertools' "no metrics" warning) when nothing was counted, e.g. a 405.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
