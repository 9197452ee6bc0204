import { Logger } from '@aws-lambda-powertools/logger';
import { purgeHistory, purgeUpToTimestamp } from '../../../lambda/synapse-purge-history/purge';
import { SynapseAdminClient } from '../../../lambda/synapse-purge-history/synapse-admin-client';
import { MatrixHomeserver } from '../../support/matrix-homeserver';
import { capturePowertoolsOutput, CapturedOutput } from '../../support/powertools-output';

const SERVER = 'chat.example.test';
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 10, 21, 3, 30);
const ALIASES = ['internal', 'partners', 'community'].map((l) => `#${l}:${SERVER}`);

interface Fixture {
  hs: MatrixHomeserver;
  adminToken: string;
  roomIds: string[];
}

/** A homeserver with the three chat rooms, each holding old and recent messages from local and remote senders. */
async function homeserverWithRooms(aliasLocalparts = ['internal', 'partners', 'community']): Promise<Fixture> {
  const hs = await MatrixHomeserver.start({ serverName: SERVER });
  const admin = hs.createUser('phenom-bot', { admin: true });
  const roomIds: string[] = [];
  for (const alias of aliasLocalparts) {
    const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ preset: 'private_chat', room_alias_name: alias, name: alias }),
    });
    const { room_id } = (await res.json()) as { room_id: string };
    roomIds.push(room_id);
    hs.injectMessage(room_id, '@remote:elsewhere.test', 'old remote', NOW - 120 * DAY);
    hs.injectMessage(room_id, `@alice:${SERVER}`, 'old local', NOW - 100 * DAY);
    hs.injectMessage(room_id, '@remote:elsewhere.test', 'recent remote', NOW - 10 * DAY);
    hs.injectMessage(room_id, `@alice:${SERVER}`, 'newest', NOW - 1 * DAY);
  }
  return { hs, adminToken: admin.accessToken, roomIds };
}

const bodies = (hs: MatrixHomeserver, roomId: string) =>
  hs
    .timeline(roomId)
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content.body);

describe('Synapse history purge', () => {
  let fx: Fixture;
  let output: CapturedOutput;
  const logger = new Logger({ serviceName: 'purge-test' });
  const run = (token = fx.adminToken, aliases = ALIASES) =>
    purgeHistory({ client: new SynapseAdminClient({ baseUrl: fx.hs.url, accessToken: token }), rooms: { kind: 'aliases', aliases }, retentionDays: 90, logger, now: NOW, pollIntervalMs: 10 });

  beforeEach(() => {
    output = capturePowertoolsOutput();
  });
  afterEach(async () => {
    output.restore();
    await fx?.hs.stop();
  });

  test('purges each room up to now minus the retention, keeping local and recent events', async () => {
    fx = await homeserverWithRooms();
    const stateBefore = fx.roomIds.map((id) => fx.hs.timeline(id).filter((e) => e.state_key !== undefined).length);

    const result = await run();

    expect(result.purgeUpToTs).toBe(NOW - 90 * DAY);
    expect(result.rooms.map((r) => [r.room, r.roomId, r.outcome])).toEqual(ALIASES.map((a, i) => [a, fx.roomIds[i], 'purged']));
    for (const [i, roomId] of fx.roomIds.entries()) {
      // The 120-day-old remote event is gone; the 100-day-old local one stays (delete_local_events false).
      expect(bodies(fx.hs, roomId)).toEqual(['old local', 'recent remote', 'newest']);
      // Room state (create, members, power levels, name, alias) is never purged.
      expect(fx.hs.timeline(roomId).filter((e) => e.state_key !== undefined)).toHaveLength(stateBefore[i]);
    }
    const purgeCalls = fx.hs.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/_synapse/admin/v1/purge_history/'));
    expect(purgeCalls.map((r) => decodeURIComponent(r.path.split('/').pop()!))).toEqual(fx.roomIds);
    // Each purge's completion was polled through the status endpoint.
    expect(fx.hs.requests.filter((r) => r.path.startsWith('/_synapse/admin/v1/purge_history_status/'))).toHaveLength(3);
    // Structured logs: one record per room plus the summary.
    expect(output.logs('room history purge')).toHaveLength(3);
    expect(output.logs('history purge finished')[0]).toMatchObject({ purged: 3, purgeUpTo: new Date(NOW - 90 * DAY).toISOString() });
  });

  test('is safe to re-run: a second run removes nothing more', async () => {
    fx = await homeserverWithRooms();
    await run();
    const after = fx.roomIds.map((id) => fx.hs.timeline(id).map((e) => e.event_id));

    const second = await run();

    expect(second.rooms.every((r) => r.outcome === 'purged' || r.outcome === 'nothing-to-purge')).toBe(true);
    expect(fx.roomIds.map((id) => fx.hs.timeline(id).map((e) => e.event_id))).toEqual(after);
  });

  test('a room with nothing older than the cut-off is "nothing-to-purge" (Synapse answers 404), not a failure', async () => {
    fx = await homeserverWithRooms();
    // Seen from 200 days ago, every event (state included) is newer than the cut-off.
    const result = await purgeHistory({
      client: new SynapseAdminClient({ baseUrl: fx.hs.url, accessToken: fx.adminToken }),
      rooms: { kind: 'aliases', aliases: ALIASES },
      retentionDays: 90,
      logger,
      now: NOW - 200 * DAY,
      pollIntervalMs: 10,
    });
    expect(result.rooms.map((r) => r.outcome)).toEqual(['nothing-to-purge', 'nothing-to-purge', 'nothing-to-purge']);
    expect(fx.roomIds.map((id) => bodies(fx.hs, id))).toEqual(fx.roomIds.map(() => ['old remote', 'old local', 'recent remote', 'newest']));
  });

  test('reports a missing alias and still purges the other rooms', async () => {
    fx = await homeserverWithRooms(['internal', 'community']);
    const result = await run();
    expect(result.rooms.map((r) => r.outcome)).toEqual(['purged', 'alias-not-found', 'purged']);
    expect(output.logs('room alias not found')[0]).toMatchObject({ room: `#partners:${SERVER}`, level: 'WARN' });
  });

  test('a token without server-admin rights fails every room with the homeserver error, and purges nothing', async () => {
    fx = await homeserverWithRooms();
    const user = fx.hs.createUser('not-an-admin');
    const before = fx.roomIds.map((id) => bodies(fx.hs, id));

    const result = await run(user.accessToken);

    expect(result.rooms.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(result.rooms[0].error).toMatch(/purge_history.*answered 403 M_FORBIDDEN/);
    expect(fx.roomIds.map((id) => bodies(fx.hs, id))).toEqual(before);
    expect(output.logs('room history purge').every((r) => r.level === 'ERROR')).toBe(true);
  });

  test('an unreachable homeserver is a clear error', async () => {
    fx = await homeserverWithRooms();
    const url = fx.hs.url;
    await fx.hs.stop();
    const client = new SynapseAdminClient({ baseUrl: url, accessToken: 'x', requestTimeoutMs: 2000 });
    await expect(purgeHistory({ client, rooms: { kind: 'aliases', aliases: ALIASES }, retentionDays: 90, logger })).rejects.toThrow(
      /GET \/_matrix\/client\/v3\/directory\/room\/.*cannot reach the homeserver/,
    );
  });

  test('rejects a retention that is not a positive whole number of days', () => {
    expect(() => purgeUpToTimestamp(NOW, 0)).toThrow('retentionDays must be a positive integer, got 0');
    expect(() => purgeUpToTimestamp(NOW, 1.5)).toThrow(/positive integer/);
    expect(purgeUpToTimestamp(NOW, 90)).toBe(NOW - 90 * DAY);
  });
});
