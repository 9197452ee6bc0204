import { randomBytes } from 'node:crypto';
import { MatrixClient, MatrixHttpError } from '../../../../chat-clients/matrix-client';
import { SynapseWorkerRouteGroup, synapseWorkerRouteGroups } from '../../../../lib/chat-synapse/workers';
import { albPathPatternMatches } from '../../../support/alb-rules';

// Against a real main process and one generic worker started from this module's configs (lib/chat-synapse/README.md,
// "Workers"): SYNAPSE_URL is the main process, SYNAPSE_WORKER_URL the worker. Skipped without them: nothing here
// can stand in for Synapse's replication.
const { SYNAPSE_URL, SYNAPSE_WORKER_URL, SYNAPSE_SHARED_SECRET } = process.env;
const real = SYNAPSE_URL && SYNAPSE_WORKER_URL && SYNAPSE_SHARED_SECRET ? describe : describe.skip;

real('a generic worker against a real main process (SYNAPSE_URL, SYNAPSE_WORKER_URL, SYNAPSE_SHARED_SECRET)', () => {
  const main = new MatrixClient({ baseUrl: SYNAPSE_URL ?? 'http://unset', timeoutMs: 40_000 });
  const worker = new MatrixClient({ baseUrl: SYNAPSE_WORKER_URL ?? 'http://unset', timeoutMs: 40_000 });
  let token: string;
  let userId: string;
  let roomId: string;
  let eventId: string;
  let since: string;
  /** The generic routes for the release the main process reports (its federation listener's /version). */
  let groups: SynapseWorkerRouteGroup[];

  beforeAll(async () => {
    const login = await main.registerWithSharedSecret(SYNAPSE_SHARED_SECRET!, { username: `worker-test-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex'), admin: false });
    token = login.access_token;
    userId = login.user_id;
    roomId = await main.createRoom(token, { preset: 'private_chat' });
    ({ event_id: eventId } = await main.request<{ event_id: string }>('PUT', ['rooms', roomId, 'send', 'm.room.message', randomBytes(8).toString('hex')], {
      token,
      body: { msgtype: 'm.text', body: 'first' },
    }));
    await main.request('PUT', ['user', userId, 'account_data', 'org.phenom.test'], { token, body: { ok: true } });
    ({ next_batch: since } = await main.request<{ next_batch: string }>('GET', '/_matrix/client/v3/sync', { token, query: { timeout: '0' } }));
    const { server } = await main.request<{ server: { version: string } }>('GET', '/_matrix/federation/v1/version');
    const version = /^\d+\.\d+\.\d+/.exec(server.version)![0];
    groups = synapseWorkerRouteGroups({ counts: { generic: 1 }, discoveryDomain: 'synapse.test.internal', synapseVersion: version, redis: { tls: false } });
  });

  it('returns, in a /sync long-poll on the worker, a message sent through the main process (replication over Redis)', async () => {
    const { next_batch } = await worker.request<{ next_batch: string }>('GET', '/_matrix/client/v3/sync', { token, query: { timeout: '0' } });
    const poll = worker.request<{ rooms?: { join?: Record<string, { timeline: { events: Array<{ event_id: string; content: { body?: string } }> } }> } }>('GET', '/_matrix/client/v3/sync', {
      token,
      query: { since: next_batch, timeout: '30000' },
    });
    const body = `through the main process ${randomBytes(4).toString('hex')}`;
    const sent = await main.request<{ event_id: string }>('PUT', ['rooms', roomId, 'send', 'm.room.message', randomBytes(8).toString('hex')], { token, body: { msgtype: 'm.text', body } });
    const events = (await poll).rooms?.join?.[roomId]?.timeline.events ?? [];
    expect(events.find((e) => e.event_id === sent.event_id)?.content.body).toBe(body);
  });

  // One real request per generic route group: the worker must serve what the ALB would send it.
  const requests = (): Array<[string, string, string, object | undefined]> => [
    ['generic-sync', 'GET', '/_matrix/client/v3/sync?timeout=0', undefined],
    ['generic-sync', 'GET', '/_matrix/client/v3/events?timeout=0', undefined],
    ['generic-sync', 'GET', '/_matrix/client/v3/initialSync?limit=1', undefined],
    ['generic-sync', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/initialSync`, undefined],
    ['generic-room-reads', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=5`, undefined],
    ['generic-room-reads', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/context/${encodeURIComponent(eventId)}`, undefined],
    ['generic-room-reads', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`, undefined],
    ['generic-room-reads', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, undefined],
    ['generic-room-reads-2', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, undefined],
    ['generic-room-reads-2', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`, undefined],
    ['generic-room-reads-2', 'GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(eventId)}`, undefined],
    ['generic-room-reads-2', 'GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/threads`, undefined],
    ['generic-keys', 'POST', '/_matrix/client/v3/keys/query', { device_keys: { [userId]: [] } }],
    ['generic-keys', 'GET', `/_matrix/client/v3/keys/changes?from=${since}&to=${since}`, undefined],
    ['generic-keys', 'POST', '/_matrix/client/v3/keys/claim', { one_time_keys: {} }],
    ['generic-keys', 'GET', '/_matrix/client/v3/joined_rooms', undefined],
    ['generic-client-info', 'GET', '/_matrix/client/versions', undefined],
    ['generic-client-info', 'GET', '/_matrix/client/v3/capabilities', undefined],
    ['generic-client-info', 'GET', '/_matrix/client/v3/account/whoami', undefined],
    ['generic-client-info', 'POST', '/_matrix/client/v3/user_directory/search', { search_term: 'worker' }],
    ['generic-get-only', 'GET', '/_matrix/client/v3/pushrules/', undefined],
    ['generic-get-only', 'GET', `/_matrix/client/v3/user/${encodeURIComponent(userId)}/account_data/org.phenom.test`, undefined],
    ['generic-get-only', 'GET', `/_matrix/client/v3/presence/${encodeURIComponent(userId)}/status`, undefined],
  ];

  /** The requests the release's route table sends to the worker (the others stay on the main process). */
  const routed = () => requests().filter(([id, , path]) => groups.find((g) => g.id === id)?.pathPatterns.some((p) => albPathPatternMatches(p, decodeURIComponent(path.split('?')[0]))));

  it("covers every path pattern of the release's generic route groups with a request", () => {
    const paths = routed().map(([, , path]) => decodeURIComponent(path.split('?')[0]));
    for (const g of groups) for (const p of g.pathPatterns) expect([g.id, p, paths.some((path) => albPathPatternMatches(p, path))]).toEqual([g.id, p, true]);
  });

  it('serves every one of them on the worker', async () => {
    const answers: Array<[string, string]> = [];
    for (const [, method, pathAndQuery, body] of routed()) {
      const [path, query] = pathAndQuery.split('?');
      try {
        await worker.request(method, path, { token, body, query: Object.fromEntries(new URLSearchParams(query ?? '')) });
        answers.push([`${method} ${path}`, 'ok']);
      } catch (error) {
        answers.push([`${method} ${path}`, error instanceof MatrixHttpError ? `${error.status} ${error.errcode}` : String(error)]);
      }
    }
    expect(answers.filter(([, a]) => a !== 'ok')).toEqual([]);
  });
});
