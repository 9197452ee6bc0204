import { randomBytes } from 'node:crypto';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import type { TestDatabase } from '../../support/postgres';
import { insertMessage as insertInto, startLinkPreviewEnvironment, type LinkPreviewEnvironment } from './entry-environment';
import { functionUrlEvent, hasuraEvent } from './events';
import type { PhenomGraphqlStandIn } from './phenom-graphql-stand-in';

/**
 * The link-preview Lambda end to end through its real entry (lambda/link-preview/index.ts):
 * real PostgreSQL 17 with the migrated schema, the Phenom API and Secrets Manager
 * as HTTP stand-ins on 127.0.0.1. Only the function URL invocation is simulated,
 * by calling the handler with a payload-2.0 event.
 */

// Generous for a first request on a busy CI box, short enough to keep the hang test quick.
const TIMEOUT_MS = 1_000;
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
const PHENOM_ADMIN_SECRET = randomBytes(16).toString('hex');

type Handler = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;
type Result = { statusCode: number; headers: Record<string, string>; body: string };

let environment: LinkPreviewEnvironment;
let db: TestDatabase;
let phenom: PhenomGraphqlStandIn;
let handler: Handler;
const emitted: string[] = [];

beforeAll(async () => {
  environment = await startLinkPreviewEnvironment({
    databaseName: 'link_preview',
    phenomTimeoutMs: TIMEOUT_MS,
    logLevel: 'SILENT',
    webhookSecret: WEBHOOK_SECRET,
    phenomAdminSecret: PHENOM_ADMIN_SECRET,
  });
  ({ db, phenom } = environment);
  // Powertools writes EMF metrics to stdout; keep them for assertions instead of printing them.
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    emitted.push(String(chunk));
    return true;
  });
  ({ handler } = (await import('../../../lambda/link-preview/index')) as { handler: Handler });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await environment?.close();
});

const insertMessage = (messageType: 'text' | 'phenom_link', phenomId: string | null) => insertInto(db, messageType, phenomId);

const authorized = { 'x-phenom-webhook-secret': WEBHOOK_SECRET };

async function call(event: LambdaFunctionURLEvent): Promise<Result & { json: Record<string, unknown> }> {
  const result = (await handler(event)) as Result;
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
}

const deliver = (payload: unknown, headers: Record<string, string> = authorized) => call(functionUrlEvent({ body: JSON.stringify(payload), headers }));

async function previewRow(phenomId: string) {
  const { rows } = await db.pool.query(
    `SELECT url, title, description, thumbnail_url, media_type, resolved_at, expires_at,
            extract(epoch FROM expires_at - resolved_at) / 3600 AS ttl_hours
       FROM link_previews WHERE phenom_id = $1`,
    [phenomId],
  );
  return rows;
}

const previewCount = async () => Number((await db.pool.query('SELECT count(*) FROM link_previews')).rows[0].count);

const content = (title: string) => ({
  title,
  description: `${title}, the description`,
  thumbnail_url: `https://cdn.thephenom.app/thumbs/${encodeURIComponent(title)}.jpg`,
  media_type: 'video',
});

beforeEach(() => {
  phenom.behaviour = 'normal';
});

describe('resolving a phenom_link INSERT', () => {
  it('stores a preview row holding the upstream fields, the preview URL and a 24 h expiry', async () => {
    phenom.content.set('ph-first', content('First sighting'));
    const requestsBefore = phenom.requests.length;

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-first') }));

    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({ status: 'resolved', phenomId: 'ph-first', url: 'https://thephenom.app/p/ph-first' });
    const rows = await previewRow('ph-first');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      url: 'https://thephenom.app/p/ph-first',
      title: 'First sighting',
      description: 'First sighting, the description',
      thumbnail_url: 'https://cdn.thephenom.app/thumbs/First%20sighting.jpg',
      media_type: 'video',
    });
    expect(Number(rows[0].ttl_hours)).toBeCloseTo(24, 5);
    // One upstream call, for this id, authenticated as the credentials secret says.
    expect(phenom.requests.length).toBe(requestsBefore + 1);
    const sent = phenom.requests.at(-1)!;
    expect(sent.variables).toEqual({ id: 'ph-first' });
    expect(sent.headers['x-hasura-admin-secret']).toBe(PHENOM_ADMIN_SECRET);
    expect(sent.headers['x-hasura-role']).toBe('link_preview');
    // Both secrets came through the extension's loopback API; the SDK was never used.
    expect(new Set(environment.secrets.extensionRequests)).toEqual(new Set([environment.webhookSecretArn, environment.credentialsSecretArn]));
    expect(environment.secrets.requests).toEqual([]);
  });

  it('answers a second event within the TTL from link_previews without calling upstream', async () => {
    phenom.content.set('ph-cached', content('Cached'));
    await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-cached') }));
    const [first] = await previewRow('ph-cached');
    const requestsBefore = phenom.requests.length;
    phenom.content.set('ph-cached', content('Changed upstream'));

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-cached') }));

    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({ status: 'cached', phenomId: 'ph-cached' });
    expect(phenom.requests.length).toBe(requestsBefore);
    const rows = await previewRow('ph-cached');
    expect(rows).toHaveLength(1);
    expect(rows[0].title).toBe('Cached');
    expect(rows[0].resolved_at).toEqual(first.resolved_at);
  });

  it('refreshes an expired preview from upstream', async () => {
    phenom.content.set('ph-expired', content('Old title'));
    await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-expired') }));
    await db.pool.query(`UPDATE link_previews SET resolved_at = now() - interval '25 hours', expires_at = now() - interval '1 hour' WHERE phenom_id = 'ph-expired'`);
    phenom.content.set('ph-expired', content('New title'));
    const requestsBefore = phenom.requests.length;

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-expired') }));

    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({ status: 'resolved' });
    expect(phenom.requests.length).toBe(requestsBefore + 1);
    const rows = await previewRow('ph-expired');
    expect(rows).toHaveLength(1);
    expect(rows[0].title).toBe('New title');
    expect(rows[0].expires_at.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });

  it('accepts a base64-encoded body, as function URLs deliver some payloads', async () => {
    phenom.content.set('ph-base64', content('Encoded'));
    const body = Buffer.from(JSON.stringify(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-base64') }))).toString('base64');

    const res = await call(functionUrlEvent({ body, isBase64Encoded: true, headers: authorized }));

    expect(res.statusCode).toBe(200);
    expect(await previewRow('ph-base64')).toHaveLength(1);
  });

  it('publishes cache miss, upstream latency and cache hit metrics', async () => {
    phenom.content.set('ph-metrics', content('Metrics'));
    emitted.length = 0;
    await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-metrics') }));
    await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-metrics') }));

    const metrics = emitted
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] } });
    expect(metrics).toHaveLength(2);
    const names = (i: number) => metrics[i]._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name).sort();
    expect(metrics[0]._aws.CloudWatchMetrics[0].Namespace).toBe('PhenomChat');
    expect(names(0)).toEqual(['CacheMiss', 'UpstreamLatency']);
    expect(metrics[0].UpstreamLatency).toEqual(expect.any(Number));
    expect(names(1)).toEqual(['CacheHit']);
  });
});

describe('upstream failures', () => {
  it('answers 502 with a Retry-After backoff on an upstream 500, and stores nothing', async () => {
    phenom.content.set('ph-500', content('Never stored'));
    phenom.behaviour = 'http-500';

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-500'), currentRetry: 2, maxRetries: 5 }));

    expect(res.statusCode).toBe(502);
    expect(res.json).toEqual({ error: 'upstream_unavailable', message: 'the Phenom API answered HTTP 500' });
    expect(res.headers['retry-after']).toBe('40');
    expect(await previewRow('ph-500')).toHaveLength(0);
  });

  it('sends no Retry-After once Hasura has no retries left (the header would make it retry forever)', async () => {
    phenom.behaviour = 'http-500';

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-500-last'), currentRetry: 5, maxRetries: 5 }));

    expect(res.statusCode).toBe(502);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(await previewRow('ph-500-last')).toHaveLength(0);
  });

  it('answers 504 when the Phenom API does not answer within the timeout, and stores nothing', async () => {
    phenom.content.set('ph-slow', content('Too slow'));
    phenom.behaviour = 'hang';
    const started = Date.now();

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-slow') }));

    expect(res.statusCode).toBe(504);
    expect(res.json).toEqual({ error: 'upstream_unavailable', message: `the Phenom API did not answer within ${TIMEOUT_MS} ms` });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2_000);
    expect(await previewRow('ph-slow')).toHaveLength(0);
  });

  it('stores nothing and answers 2xx with a reason for an id the Phenom backend does not know', async () => {
    const requestsBefore = phenom.requests.length;

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-unknown') }));

    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ status: 'not_found', phenomId: 'ph-unknown', reason: 'the Phenom backend has no content with id ph-unknown' });
    expect(phenom.requests.length).toBe(requestsBefore + 1);
    expect(await previewRow('ph-unknown')).toHaveLength(0);
  });
});

describe('authentication', () => {
  it.each([
    ['a wrong secret', { 'x-phenom-webhook-secret': `${WEBHOOK_SECRET}x` }],
    ['a secret of the right length but wrong value', { 'x-phenom-webhook-secret': WEBHOOK_SECRET.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }],
    ['no secret header', {}],
    ['the secret in another header', { authorization: `Bearer ${WEBHOOK_SECRET}` }],
  ])('answers 401 to %s, calls nobody and stores nothing', async (_label, headers) => {
    phenom.content.set('ph-auth', content('Auth'));
    const [rowsBefore, requestsBefore] = [await previewCount(), phenom.requests.length];

    const res = await deliver(hasuraEvent({ row: await insertMessage('phenom_link', 'ph-auth') }), headers);

    expect(res.statusCode).toBe(401);
    expect(res.json).toEqual({ error: 'unauthorized', message: 'missing or wrong x-phenom-webhook-secret header' });
    expect(phenom.requests.length).toBe(requestsBefore);
    expect(await previewCount()).toBe(rowsBefore);
    expect(await previewRow('ph-auth')).toHaveLength(0);
  });

  it('answers 405 to an authenticated request that is not a POST', async () => {
    const res = await call(functionUrlEvent({ method: 'GET', headers: authorized }));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });
});

describe('payloads that are not link previews', () => {
  const malformed: [string, () => Promise<string | undefined>, RegExp][] = [
    ['bad JSON', async () => '{"event": {"op": "INSERT"', /not valid JSON/],
    ['an empty body', async () => undefined, /has no body/],
    ['no event', async () => JSON.stringify({ ...hasuraEvent({ row: await insertMessage('phenom_link', 'ph-bad') }), event: undefined }), /event: /],
    ['a JSON array', async () => '[]', /not a Hasura event trigger payload/],
    ['an op Hasura never sends', async () => JSON.stringify(hasuraEvent({ op: 'TRUNCATE', row: await insertMessage('phenom_link', 'ph-bad') })), /event\.op: Invalid option/],
    ['an INSERT without the new row', async () => JSON.stringify(hasuraEvent({ row: null })), /event\.data\.new/],
    [
      'a phenom_link without phenom_id',
      async () => JSON.stringify(hasuraEvent({ row: { ...(await insertMessage('phenom_link', 'ph-bad')), phenom_id: null } })),
      /phenom_id: a phenom_link message must have a phenom_id/,
    ],
    ['a phenom_id with spaces', async () => JSON.stringify(hasuraEvent({ row: { ...(await insertMessage('phenom_link', 'ph-bad')), phenom_id: 'ph bad' } })), /phenom_id: expected an id/],
    ['a row without message_type', async () => JSON.stringify(hasuraEvent({ row: { id: 'm1', phenom_id: 'ph-bad' } })), /message_type/],
  ];

  it.each(malformed)('answers 400 with a reason to %s, calls nobody and stores nothing', async (_label, body, reason) => {
    const payload = await body();
    const [rowsBefore, requestsBefore] = [await previewCount(), phenom.requests.length];

    const res = await call(functionUrlEvent({ body: payload, headers: authorized }));

    expect(res.statusCode).toBe(400);
    expect(res.json.error).toBe('invalid_payload');
    expect(res.json.message).toMatch(reason);
    expect(phenom.requests.length).toBe(requestsBefore);
    expect(await previewCount()).toBe(rowsBefore);
  });

  it.each([
    ['a text message', async () => hasuraEvent({ row: await insertMessage('text', null) }), /a text message has no link preview/],
    [
      'an UPDATE of a phenom_link message',
      async () => {
        const row = await insertMessage('phenom_link', 'ph-updated');
        return hasuraEvent({ op: 'UPDATE', old: row, row: { ...row, is_deleted: true } });
      },
      /UPDATE events are not link previews/,
    ],
    ['an event on another table', async () => hasuraEvent({ table: { schema: 'public', name: 'chat_rooms' }, row: { id: 'r1' } }), /public\.chat_rooms/],
  ])('ignores %s with 2xx and does no work', async (_label, payload, reason) => {
    const event = await payload();
    const [rowsBefore, requestsBefore] = [await previewCount(), phenom.requests.length];

    const res = await deliver(event);

    expect(res.statusCode).toBe(200);
    expect(res.json.status).toBe('ignored');
    expect(res.json.reason).toMatch(reason);
    expect(phenom.requests.length).toBe(requestsBefore);
    expect(await previewCount()).toBe(rowsBefore);
  });
});
