import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createWebhookHandler } from '../../../lambda/link-preview/webhook-handler';
import { functionUrlEvent, hasuraEvent } from './events';

/**
 * Failures of the function's own dependencies (the webhook secret read, the database):
 * the full stack is exercised in handler.test.ts; here a dependency fails on purpose.
 */
const logger = new Logger({ logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'PhenomChatTest', serviceName: 'link-preview' });
metrics.setThrowOnEmptyMetrics(false);
const SECRET = 'x'.repeat(48);
const row = { id: 'm-1', message_type: 'phenom_link', phenom_id: 'ph-1' };

beforeAll(() => jest.spyOn(process.stdout, 'write').mockImplementation(() => true));
afterAll(() => jest.restoreAllMocks());

it('answers 500 without internals, and a backoff, when the database fails', async () => {
  const handler = createWebhookHandler({
    webhookSecret: async () => SECRET,
    resolve: async () => {
      throw new Error('connect ECONNREFUSED 10.40.3.7:5432 password authentication failed for user "chat"');
    },
    logger,
    metrics,
  });

  const res = (await handler(functionUrlEvent({ body: JSON.stringify(hasuraEvent({ row, currentRetry: 1, maxRetries: 5 })), headers: { 'x-phenom-webhook-secret': SECRET } }))) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };

  expect(res.statusCode).toBe(500);
  expect(JSON.parse(res.body)).toEqual({ error: 'internal_error', message: 'the link preview could not be processed; see the function logs' });
  expect(res.body).not.toMatch(/ECONNREFUSED|password|10\.40/);
  expect(res.headers['retry-after']).toBe('20');
});

it('answers 500 (so Hasura retries) when the webhook secret cannot be read, and resolves nothing', async () => {
  const resolve = jest.fn();
  const handler = createWebhookHandler({
    webhookSecret: async () => {
      throw new Error('AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue');
    },
    resolve,
    logger,
    metrics,
  });

  const res = (await handler(functionUrlEvent({ body: JSON.stringify(hasuraEvent({ row })), headers: { 'x-phenom-webhook-secret': SECRET } }))) as { statusCode: number; body: string };

  expect(res.statusCode).toBe(500);
  expect(res.body).not.toMatch(/AccessDenied/);
  expect(resolve).not.toHaveBeenCalled();
});
