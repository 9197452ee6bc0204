import { Client, Pool } from 'pg';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { collect, CollectorDeps } from '../../../lambda/ab-collector/collect';
import { createCollectorHandler } from '../../../lambda/ab-collector/handler';
import { hasuraLiteUsage, localSenderPattern, Queryable, synapseUsage, windowBefore } from '../../../lambda/ab-collector/usage';
import { CHAT_ROOM_DEFINITIONS } from '../../../chat-domain/rooms';
import { fetchAbSeries } from '../../../scripts/ab-report/cloudwatch';
import { CloudWatchStandIn, startCloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { standInClients } from '../../support/aws/sdk-env';
import { createTestDatabase, TestDatabase } from '../../support/postgres';
import { bulkLoad } from '../../support/postgres/bulk-load';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { SYNAPSE_EVENTS_SCHEMA } from '../../support/synapse-events-schema';

const SERVER = 'chat.example.com';
const NOW = new Date('2026-11-14T12:07:30Z');
const W = windowBefore(NOW); // [12:00, 12:05) on 2026-11-14
const at = (iso: string) => new Date(iso);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}
/** The plan of every statement `run` sends, captured with EXPLAIN instead of running it. */
async function plansOf(db: Queryable, run: (q: Queryable) => Promise<unknown>): Promise<PlanNode[][]> {
  const plans: PlanNode[][] = [];
  const explaining: Queryable = {
    query: (async (text: string, values: unknown[]) => {
      const { rows } = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
      plans.push(nodes(rows[0]['QUERY PLAN'][0].Plan));
      // Shaped like the real answer, so `run` completes.
      return { rows: [{ rooms: null, messages: '0', senders: '0' }] };
    }) as Queryable['query'],
  };
  await run(explaining);
  return plans;
}

describe('the collector window', () => {
  it('is the last complete 5 minutes before now, on the day the window starts', () => {
    expect(windowBefore(NOW)).toEqual({ start: at('2026-11-14T12:00:00Z'), end: at('2026-11-14T12:05:00Z'), dayStart: at('2026-11-14T00:00:00Z') });
    // Just after midnight the window is the previous day's last, and "today" is that whole day.
    expect(windowBefore(at('2026-11-15T00:02:00Z'))).toEqual({ start: at('2026-11-14T23:55:00Z'), end: at('2026-11-15T00:00:00Z'), dayStart: at('2026-11-14T00:00:00Z') });
    // A late or retried run inside the next window counts the same one.
    expect(windowBefore(at('2026-11-14T12:09:59.999Z'))).toEqual(windowBefore(NOW));
  });

  it('escapes LIKE wildcards in the server name, so another server cannot match', () => {
    expect(localSenderPattern('chat_1.example.com')).toBe('%:chat\\_1.example.com');
  });
});

describe('Hasura Lite usage from chat_messages (real PostgreSQL 17)', () => {
  let db: TestDatabase;
  let rooms: Record<string, string>;
  beforeAll(async () => {
    db = await createMigratedDatabase('ab');
    rooms = Object.fromEntries((await db.pool.query<{ id: string; name: string }>('SELECT id, name FROM chat_rooms')).rows.map((r) => [r.name, r.id]));
    await db.pool.query(`INSERT INTO users (id, username) VALUES ('alice', 'alice'), ('bob', 'bob'), ('carol', 'carol')`);
    await db.pool.query('INSERT INTO chat_members (room_id, user_id) SELECT r.id, u.id FROM chat_rooms r CROSS JOIN users u');
    const send = (room: string, user: string, iso: string, deleted = false) =>
      db.pool.query('INSERT INTO chat_messages (room_id, user_id, content, created_at, is_deleted) VALUES ($1, $2, $3, $4, $5)', [rooms[room], user, 'hi', iso, deleted]);
    await send('Phenom Community', 'alice', '2026-11-14T12:00:00Z'); // first instant of the window
    await send('Phenom Community', 'bob', '2026-11-14T12:04:59.999Z', true); // deleted later, still sent
    await send('Phenom Internal', 'alice', '2026-11-14T12:03:00Z');
    await send('Phenom Partners', 'carol', '2026-11-14T12:05:00Z'); // the next window
    await send('Phenom Partners', 'carol', '2026-11-14T08:00:00Z'); // earlier today
    await send('Phenom Partners', 'bob', '2026-11-13T23:59:59Z'); // yesterday
  });
  afterAll(() => db.drop());

  it('counts the window per room, and senders and active rooms so far today', async () => {
    expect(await hasuraLiteUsage(db.pool, W)).toEqual({
      messages: 3,
      messagesByRoom: { internal: 1, partners: 0, community: 2 },
      sendersToday: 3, // alice, bob, and carol at 08:00 (her 12:05 message is the next window's)
      activeRoomsToday: 3,
    });
  });
});

describe('Matrix usage from Synapse events', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('abs');
    await db.pool.query(SYNAPSE_EVENTS_SCHEMA);
    await db.pool.query(
      `INSERT INTO room_aliases (room_alias, room_id) VALUES
         ('#community:${SERVER}', '!c:${SERVER}'), ('#lobby:${SERVER}', '!c:${SERVER}'),
         ('#internal:${SERVER}', '!i:${SERVER}'), ('#partners:other.org', '!p:${SERVER}')`,
    );
    let n = 0;
    const event = (room: string, sender: string, iso: string, type = 'm.room.message') =>
      db.pool.query('INSERT INTO events (stream_ordering, topological_ordering, event_id, type, room_id, origin_server_ts, sender) VALUES ($1, $1, $2, $3, $4, $5, $6)', [
        ++n,
        `$e${n}`,
        type,
        room,
        at(iso).getTime(),
        sender,
      ]);
    await event(`!c:${SERVER}`, `@alice:${SERVER}`, '2026-11-14T12:00:00Z');
    await event(`!c:${SERVER}`, `@bob:${SERVER}`, '2026-11-14T12:01:00Z');
    await event(`!c:${SERVER}`, '@mallory:other.org', '2026-11-14T12:01:00Z'); // federated: not our user
    await event(`!c:${SERVER}`, `@alice:${SERVER}`, '2026-11-14T12:02:00Z', 'm.room.member'); // not a message
    await event(`!i:${SERVER}`, `@alice:${SERVER}`, '2026-11-14T12:04:00Z');
    await event(`!p:${SERVER}`, `@carol:${SERVER}`, '2026-11-14T12:04:30Z'); // its only alias is another server's
    await event(`!x:${SERVER}`, `@carol:${SERVER}`, '2026-11-14T12:05:00Z'); // next window
    await event(`!x:${SERVER}`, `@dave:${SERVER}`, '2026-11-14T01:00:00Z'); // earlier today
  });
  afterAll(() => db.drop());

  it("counts local senders' messages, names rooms by our alias, and keeps unnamed rooms in the total", async () => {
    expect(await synapseUsage(db.pool, W, SERVER)).toEqual({
      messages: 4,
      messagesByRoom: { internal: 1, partners: 0, community: 2 },
      sendersToday: 4, // alice, bob, carol, dave
      activeRoomsToday: 4,
    });
  });
});

describe('reads keyed by time stay cheap as history grows (1M rows each, real PostgreSQL 17)', () => {
  let chat: TestDatabase;
  let synapse: TestDatabase;
  beforeAll(async () => {
    [chat, synapse] = await Promise.all([createMigratedDatabase('abp'), createTestDatabase('abq')]);
    await chat.pool.query(`INSERT INTO users (id) SELECT 'u' || i FROM generate_series(0, 999) i`);
    await synapse.pool.query(SYNAPSE_EVENTS_SCHEMA);
    // Both loads at once (separate databases): ~58 days of history ending at NOW, one message every 5 s.
    await Promise.all([
      bulkLoad(chat.pool, 'chat_messages', (sql) =>
        sql(
          `INSERT INTO chat_messages (room_id, user_id, content, created_at)
           SELECT (SELECT array_agg(id ORDER BY name) FROM chat_rooms)[1 + i % 3], 'u' || (i % 1000), 'm', $1::timestamptz - i * interval '5 seconds'
             FROM generate_series(0, 999999) i`,
          [NOW],
        ),
      ),
      bulkLoad(synapse.pool, 'events', (sql) =>
        sql(
          `INSERT INTO events (stream_ordering, topological_ordering, event_id, type, room_id, origin_server_ts, sender)
           SELECT i, i, '$' || i, CASE WHEN i % 10 = 0 THEN 'm.room.member' ELSE 'm.room.message' END, '!r' || (i % 3) || ':${SERVER}', $1::bigint - i::bigint * 5000, '@u' || (i % 1000) || ':${SERVER}'
             FROM generate_series(1, 1000000) i`,
          [NOW.getTime()],
        ),
      ),
    ]);
  }, 120_000);
  afterAll(async () => Promise.all([chat?.drop(), synapse?.drop()]));

  it('Hasura Lite: one index range per room on (room_id, created_at, id), never a scan of chat_messages', async () => {
    const plans = await plansOf(chat.pool, (q) => hasuraLiteUsage(q, W));
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      const onMessages = plan.filter((n) => n['Relation Name'] === 'chat_messages');
      expect(onMessages.length).toBeGreaterThan(0);
      for (const node of onMessages)
        expect({ type: node['Node Type'], index: node['Index Name'] }).toEqual({
          type: expect.stringMatching(/^(Index|Index Only|Bitmap Heap) Scan$/),
          index: node['Node Type'] === 'Bitmap Heap Scan' ? undefined : 'idx_chat_messages_room_created',
        });
    }
    // And the answer over 1M rows is the window's: 60 messages (one per 5 s), 20 per room.
    expect(await hasuraLiteUsage(chat.pool, W)).toMatchObject({ messages: 60, messagesByRoom: Object.fromEntries(CHAT_ROOM_DEFINITIONS.map((r) => [r.alias, 20])) });
  });

  it('Synapse: a range of events_ts, never a scan of events', async () => {
    const plans = await plansOf(synapse.pool, (q) => synapseUsage(q, W, SERVER));
    for (const plan of plans) {
      const onEvents = plan.filter((n) => n['Relation Name'] === 'events');
      expect(onEvents.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      expect(plan.some((n) => n['Index Name'] === 'events_ts')).toBe(true);
    }
  });
});

/** Gated: Synapse's own database, as a real homeserver created it (SYNAPSE_DATABASE_URL). */
const realSynapseDb = process.env.SYNAPSE_DATABASE_URL;
(realSynapseDb ? describe : describe.skip)('against a real Synapse database (SYNAPSE_DATABASE_URL)', () => {
  let pool: Pool;
  beforeAll(() => {
    const ca = process.env.SYNAPSE_DATABASE_CA;
    pool = new Pool({ connectionString: realSynapseDb, ...(ca ? { ssl: { ca: readFileSync(ca, 'utf8') } } : {}) });
  });
  afterAll(() => pool.end());

  it('has the columns and the events_ts index the collector relies on, and the queries run', async () => {
    const { rows } = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname = 'events_ts'`);
    expect(rows[0]?.indexdef).toMatch(/\(origin_server_ts, stream_ordering\)/);
    const server = process.env.SYNAPSE_SERVER_NAME ?? 'chat.test';
    const usage = await synapseUsage(pool, { start: new Date(0), end: new Date(Date.now() + 60_000), dayStart: new Date(0) }, server);
    const { rows: direct } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'm.room.message' AND sender LIKE $1`, [localSenderPattern(server)]);
    expect(usage.messages).toBe(Number(direct[0].n));
  });
});

describe('one collector run', () => {
  let chat: TestDatabase;
  let synapse: TestDatabase;
  let cw: CloudWatchStandIn;
  beforeAll(async () => {
    [chat, synapse, cw] = await Promise.all([createMigratedDatabase('abc'), createTestDatabase('abd'), startCloudWatchStandIn()]);
    await synapse.pool.query(SYNAPSE_EVENTS_SCHEMA);
    await chat.pool.query(`INSERT INTO users (id) VALUES ('alice')`);
    await chat.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, 'alice' FROM chat_rooms`);
    await chat.pool.query(`INSERT INTO chat_messages (room_id, user_id, content, created_at) SELECT id, 'alice', 'hi', '2026-11-14T12:01:00Z' FROM chat_rooms WHERE name = 'Phenom Community'`);
    await synapse.pool.query(
      `INSERT INTO events (stream_ordering, topological_ordering, event_id, type, room_id, origin_server_ts, sender) VALUES (1, 1, '$1', 'm.room.message', '!c', $1, '@alice:${SERVER}'), (2, 2, '$2', 'm.room.message', '!c', $1, '@bob:${SERVER}')`,
      [at('2026-11-14T12:02:00Z').getTime()],
    );
  });
  afterAll(async () => Promise.all([chat?.drop(), synapse?.drop(), cw?.close()]));

  /** One run's dependencies against this file's databases and stand-in; a test changes what it is about. */
  const depsFor = (overrides: Partial<CollectorDeps> = {}): CollectorDeps => ({
    cloudWatch: standInClients(cw.url).cloudWatch,
    environment: 'phenom-test',
    matrixServerName: SERVER,
    chatDb: async () => chat.pool,
    synapseDb: async () => synapse.pool,
    now: () => NOW,
    ...overrides,
  });

  it('publishes both backends for the window through PutMetricData, and the report reads them back; a rerun changes nothing', async () => {
    const deps = depsFor();
    const report = await collect(deps);
    expect(report.failures).toEqual([]);
    await collect(deps); // EventBridge delivers at least once
    const series = await fetchAbSeries(standInClients(cw.url).cloudWatch, { environment: 'phenom-test', days: 1, now: at('2026-11-15T03:00:00Z') });
    expect(series.messages.matrix.get('2026-11-14')).toBe(2);
    expect(series.messages['hasura-lite'].get('2026-11-14')).toBe(1);
    expect(series.senders.matrix.get('2026-11-14')).toBe(2);
    expect(series.rooms['hasura-lite'].get('2026-11-14')).toBe(1);
  });

  it('still publishes one backend when the other database is down, and reports the failure', async () => {
    const down = async (): Promise<Queryable> => {
      const c = new Client({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
      await c.connect();
      return c;
    };
    const report = await collect(depsFor({ environment: 'phenom-down', synapseDb: down }));
    expect(report.failures).toEqual([{ backend: 'matrix', error: expect.stringMatching(/ECONNREFUSED/) }]);
    expect(report.usage['hasura-lite']?.messages).toBe(1);
    const series = await fetchAbSeries(standInClients(cw.url).cloudWatch, { environment: 'phenom-down', days: 1, now: at('2026-11-15T03:00:00Z') });
    expect(series.messages['hasura-lite'].get('2026-11-14')).toBe(1);
    expect(series.messages.matrix.size).toBe(0);
    // As a Lambda, the run then fails, naming the backend, so the function's Errors alarm fires.
    const logger = new Logger({ logLevel: 'SILENT' });
    const handler = createCollectorHandler({ ...depsFor({ environment: 'phenom-down', synapseDb: down }), logger });
    await expect(handler()).rejects.toThrow(/^A\/B collector: matrix: .*ECONNREFUSED/);
  });
});
