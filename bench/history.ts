/**
 * npm run bench:history
 *
 * Message history paging on the real schema: 1,000,000 messages across the three
 * seeded rooms, a 50-message page fetched by keyset (room_id, created_at DESC, id DESC)
 * at depth 0 and at depth 500,000, and the same two pages by OFFSET for comparison.
 * Prints medians and the deep/shallow ratio (goal for keyset: ≤ 1.5).
 *
 * Starts its own PostgreSQL 17 (the test harness's embedded server) and migrates it
 * with the deploy-time runner, so it measures exactly the indexes that ship.
 */
import { Client } from 'pg';
import { runMigrations } from '../lambda/migrations/runner';
import { startPostgresServer } from '../scripts/local-postgres/server';

const TOTAL_MESSAGES = 1_000_000;
/** The deep room must hold more than DEEP_DEPTH + PAGE messages. */
const ROOM_SHARE: Record<string, number> = { 'Phenom Community': 600_000, 'Phenom Partners': 250_000, 'Phenom Internal': 150_000 };
const PAGE = 50;
const DEEP_DEPTH = 500_000;
const USERS = 200;
const KEYSET_RUNS = 101;
const OFFSET_RUNS = { shallow: 101, deep: 11 };

const KEYSET_FIRST_PAGE = `
  SELECT id, user_id, content, message_type, phenom_id, is_deleted, created_at FROM chat_messages
  WHERE room_id = $1
  ORDER BY created_at DESC, id DESC LIMIT ${PAGE}`;
const KEYSET_NEXT_PAGE = `
  SELECT id, user_id, content, message_type, phenom_id, is_deleted, created_at FROM chat_messages
  WHERE room_id = $1 AND (created_at, id) < ($2::timestamptz, $3::uuid)
  ORDER BY created_at DESC, id DESC LIMIT ${PAGE}`;
const OFFSET_PAGE = `
  SELECT id, user_id, content, message_type, phenom_id, is_deleted, created_at FROM chat_messages
  WHERE room_id = $1
  ORDER BY created_at DESC, id DESC LIMIT ${PAGE} OFFSET $2`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Probe {
  readonly sql: string;
  readonly params: unknown[];
  readonly runs: number;
}

/**
 * Median wall time of each probe. Runs are interleaved round-robin, so a burst of load
 * on the (shared) machine hits every probe alike instead of skewing one of them.
 */
async function timeQueries(client: Client, probes: Probe[]): Promise<{ medianMs: number; ids: string[] }[]> {
  const ids = probes.map(() => [] as string[]);
  const samples = probes.map(() => [] as number[]);
  for (const [i, probe] of probes.entries()) {
    for (let w = 0; w < 3; w++) ids[i] = (await client.query<{ id: string }>(probe.sql, probe.params)).rows.map((r) => r.id); // warm the cache
  }
  const rounds = Math.max(...probes.map((p) => p.runs));
  for (let round = 0; round < rounds; round++) {
    for (const [i, probe] of probes.entries()) {
      if (round >= probe.runs) continue;
      const started = process.hrtime.bigint();
      await client.query(probe.sql, probe.params);
      samples[i].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return probes.map((_, i) => ({ medianMs: median(samples[i]), ids: ids[i] }));
}

/** Median server-side execution time (EXPLAIN ANALYZE), free of client and scheduling noise. */
async function serverMedianMs(client: Client, sql: string, params: unknown[], runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    samples.push(rows[0]['QUERY PLAN'][0]['Execution Time']);
  }
  return median(samples);
}

async function plan(client: Client, sql: string, params: unknown[]): Promise<string> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) ${sql}`, params);
  return rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n');
}

const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await work();
  console.log(`${label.padEnd(48)} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
};

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const server = await step('start PostgreSQL 17', () => startPostgresServer(['-c', 'shared_buffers=256MB']));
  const client = new Client({ connectionString: server.url });
  try {
    await client.connect();
    await step('migrate (lambda/migrations/runner.ts)', () => runMigrations(client));

    await step(`load ${TOTAL_MESSAGES.toLocaleString('en-US')} messages (generate_series)`, async () => {
      await client.query(`INSERT INTO users (id, username, display_name) SELECT 'user-' || g, 'user' || g, 'User ' || g FROM generate_series(1, ${USERS}) g`);
      await client.query(`INSERT INTO chat_members (room_id, user_id) SELECT r.id, u.id FROM chat_rooms r CROSS JOIN users u`);
      // A bulk load of known-good rows: skip the per-row chat-rules trigger and FK checks
      // (session_replication_role = replica), and build chat_messages' indexes once after the
      // load from their own catalog definitions, so the benchmark pages through exactly the shipped indexes.
      const indexes = await client.query<{ name: string; def: string; constraint: string | null }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
                (SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) AS constraint
         FROM pg_index i WHERE i.indrelid = 'chat_messages'::regclass`,
      );
      for (const index of indexes.rows) {
        await client.query(index.constraint ? `ALTER TABLE chat_messages DROP CONSTRAINT ${index.name}` : `DROP INDEX ${index.name}`);
      }
      await client.query('SET session_replication_role = replica');
      let offset = 0;
      for (const [room, count] of Object.entries(ROOM_SHARE)) {
        // Two messages per second of history, so created_at ties are common and the id tie-breaker is exercised.
        await client.query(
          `INSERT INTO chat_messages (room_id, user_id, content, created_at, updated_at)
           SELECT r.id, 'user-' || (1 + g % ${USERS}), 'message ' || g || ' ' || md5(g::text),
                  ts, ts
           FROM chat_rooms r, generate_series($2::int, $3::int) g,
                LATERAL (SELECT timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => (g / 2)::int) AS ts) t
           WHERE r.name = $1`,
          [room, offset + 1, offset + count],
        );
        offset += count;
      }
      await client.query('RESET session_replication_role');
      await client.query(`SET maintenance_work_mem = '256MB'`);
      for (const index of indexes.rows) {
        await client.query(index.constraint ? `ALTER TABLE chat_messages ADD CONSTRAINT ${index.name} ${index.constraint}` : index.def);
      }
    });
    await step('VACUUM ANALYZE chat_messages', () => client.query('VACUUM ANALYZE chat_messages'));

    const counts = await client.query<{ name: string; n: number }>('SELECT r.name, count(*)::int AS n FROM chat_messages m JOIN chat_rooms r ON r.id = m.room_id GROUP BY r.name ORDER BY n DESC');
    console.log(`messages per room: ${counts.rows.map((r) => `${r.name} ${r.n.toLocaleString('en-US')}`).join(', ')}`);
    const room = (await client.query<{ id: string }>(`SELECT id FROM chat_rooms WHERE name = 'Phenom Community'`)).rows[0].id;

    // The cursor a client holds after reading DEEP_DEPTH messages: the last row it saw.
    const cursorRow = (
      await client.query<{ created_at: Date; id: string }>(`SELECT created_at, id FROM chat_messages WHERE room_id = $1 ORDER BY created_at DESC, id DESC OFFSET ${DEEP_DEPTH - 1} LIMIT 1`, [room])
    ).rows[0];
    const cursor = [room, cursorRow.created_at, cursorRow.id];

    const [keysetShallow, keysetDeep, offsetShallow, offsetDeep] = await step('measure', () =>
      timeQueries(client, [
        { sql: KEYSET_FIRST_PAGE, params: [room], runs: KEYSET_RUNS },
        { sql: KEYSET_NEXT_PAGE, params: cursor, runs: KEYSET_RUNS },
        { sql: OFFSET_PAGE, params: [room, 0], runs: OFFSET_RUNS.shallow },
        { sql: OFFSET_PAGE, params: [room, DEEP_DEPTH], runs: OFFSET_RUNS.deep },
      ]),
    );

    if (keysetDeep.ids.join() !== offsetDeep.ids.join() || keysetShallow.ids.join() !== offsetShallow.ids.join()) {
      throw new Error('keyset and OFFSET pages differ: the keyset cursor is wrong');
    }
    if (keysetDeep.ids.length !== PAGE) throw new Error(`the deep page has ${keysetDeep.ids.length} rows, expected ${PAGE}`);

    const fmt = (ms: number) => `${ms.toFixed(3).padStart(9)} ms`;
    console.log(`\n50-message history page in a room of ${counts.rows[0].n.toLocaleString('en-US')} messages (median):`);
    console.log(`  keyset  depth 0        ${fmt(keysetShallow.medianMs)}   (${KEYSET_RUNS} runs)`);
    console.log(`  keyset  depth 500,000  ${fmt(keysetDeep.medianMs)}   (${KEYSET_RUNS} runs)`);
    const keysetRatio = keysetDeep.medianMs / keysetShallow.medianMs;
    console.log(`  keyset  ratio deep/shallow  ${keysetRatio.toFixed(2)}   goal ≤ 1.5: ${keysetRatio <= 1.5 ? 'met' : 'NOT met'}`);
    console.log(`  OFFSET  depth 0        ${fmt(offsetShallow.medianMs)}   (${OFFSET_RUNS.shallow} runs)`);
    console.log(`  OFFSET  depth 500,000  ${fmt(offsetDeep.medianMs)}   (${OFFSET_RUNS.deep} runs)`);
    console.log(`  OFFSET  ratio deep/shallow  ${(offsetDeep.medianMs / offsetShallow.medianMs).toFixed(1)}`);
    console.log('  (keyset and OFFSET returned the same 50 ids at both depths)');
    const serverShallow = await serverMedianMs(client, KEYSET_FIRST_PAGE, [room], 21);
    const serverDeep = await serverMedianMs(client, KEYSET_NEXT_PAGE, cursor, 21);
    console.log(
      `  keyset  server execution time (EXPLAIN ANALYZE, median of 21): depth 0 ${serverShallow.toFixed(3)} ms, depth 500,000 ${serverDeep.toFixed(3)} ms, ratio ${(serverDeep / serverShallow).toFixed(2)}`,
    );
    console.log(`\nkeyset plan at depth 500,000:\n${await plan(client, KEYSET_NEXT_PAGE, cursor)}`);
    console.log(`\ntotal ${((Date.now() - benchStarted) / 1000).toFixed(1)} s`);
  } finally {
    await client.end().catch(() => undefined);
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
