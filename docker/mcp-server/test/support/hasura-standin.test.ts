import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import type { TestDatabase } from '../../../../test/support/postgres';
import { AGENT, ALICE, ChatFixture, seedChat, snapshotChat } from './chat-fixture';
import { CognitoStandIn, HASURA_CLAIMS } from './cognito-standin';
import { HasuraStandIn } from './hasura-standin';
import { HASURA_LOGGING_ENV } from '../../../../lib/chat-hasura-lite/engine-logging';

/*
 * The stand-in's answers where graphql-engine v2's source decides them (Hasura.Server.App,
 * Hasura.Server.Auth.JWT, Hasura.Backends.Postgres.Execute.Types, Translate.Returning), so the
 * backend is tested against what the real engine sends, not against what the stand-in once did.
 */

const CLIENT_ID = 'standinclient000000000001';

describe('the Hasura stand-in answers as graphql-engine v2 does', () => {
  let db: TestDatabase;
  let fixture: ChatFixture;
  let cognito: CognitoStandIn;
  let hasura: HasuraStandIn;
  let metadataDir: string;

  beforeAll(async () => {
    db = await createMigratedDatabase('hasura_standin');
    fixture = await seedChat(db.pool);
    cognito = new CognitoStandIn({ clientId: CLIENT_ID, clientSecret: 's', loginName: 'agent@chat.test', password: 'p', sub: AGENT, nowSeconds: () => Math.floor(Date.now() / 1000) });
    hasura = new HasuraStandIn({ pool: db.pool, cognito });
    await hasura.start();
  });
  afterEach(() => {
    hasura.internalErrors = false;
  });
  afterAll(async () => {
    await hasura?.stop();
    await db?.drop();
    if (metadataDir) rmSync(metadataDir, { recursive: true, force: true });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (roles: string[], sub = AGENT) => JSON.stringify({ 'x-hasura-user-id': sub, 'x-hasura-default-role': roles[0], 'x-hasura-allowed-roles': roles });
  const token = (extra: Record<string, unknown> = {}) =>
    cognito.sign({ iss: cognito.issuer, aud: CLIENT_ID, sub: AGENT, token_use: 'id', exp: now() + 600, [HASURA_CLAIMS]: claims(['chat_admin', 'user']), ...extra });

  const post = async (body: string, headers: Record<string, string>, url = hasura.url) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
  };
  const graphql = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = { authorization: `Bearer ${token()}` }) =>
    post(JSON.stringify({ query, variables }), headers);
  const ROOMS = 'query { chat_rooms { id } }';

  describe('authentication (JWT mode, no unauthorized role)', () => {
    it('answers a request without Authorization with invalid-headers, and a non-Bearer one as malformed', async () => {
      expect((await graphql(ROOMS, {}, {})).body.errors).toEqual([
        { message: "Missing 'Authorization' or 'Cookie' header in JWT authentication mode", extensions: { path: '$', code: 'invalid-headers' } },
      ]);
      expect((await graphql(ROOMS, {}, { authorization: `Basic ${token()}` })).body.errors?.[0]).toMatchObject({ message: 'Malformed Authorization header', extensions: { code: 'invalid-headers' } });
    });

    it('matches the issuer exactly and the audience against the configured one', async () => {
      const wrongIssuer = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ iss: `${cognito.issuer}/` })}` });
      expect(wrongIssuer.body.errors?.[0]).toMatchObject({ message: 'Could not verify JWT: JWTNotInIssuer', extensions: { code: 'invalid-jwt' } });
      const wrongAudience = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ aud: 'another-client' })}` });
      expect(wrongAudience.body.errors?.[0]).toMatchObject({ message: 'Could not verify JWT: JWTNotInAudience', extensions: { code: 'invalid-jwt' } });
      expect((await graphql(ROOMS)).body.data?.chat_rooms).toHaveLength(3);
    });

    it('answers a token without the claims key, or with claims that are not stringified JSON, with jwt-invalid-claims (never a 500)', async () => {
      const missing = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ [HASURA_CLAIMS]: undefined })}` });
      expect(missing).toEqual({ status: 200, body: { errors: [{ message: `claims key: '${HASURA_CLAIMS}' not found`, extensions: { path: '$', code: 'jwt-invalid-claims' } }] } });
      const malformed = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ [HASURA_CLAIMS]: '{not json' })}` });
      expect(malformed.status).toBe(200);
      expect(malformed.body.errors?.[0]).toMatchObject({
        message: `expecting stringified json at: 'claims_namespace ${HASURA_CLAIMS}', but found: {not json`,
        extensions: { code: 'jwt-invalid-claims' },
      });
      const object = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ [HASURA_CLAIMS]: { 'x-hasura-allowed-roles': ['user'] } })}` });
      expect(object.body.errors?.[0]?.extensions.code).toBe('jwt-invalid-claims');
      const noRoles = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ [HASURA_CLAIMS]: JSON.stringify({ 'x-hasura-default-role': 'user' }) })}` });
      expect(noRoles.body.errors?.[0]).toMatchObject({ message: 'JWT claim does not contain x-hasura-allowed-roles', extensions: { code: 'jwt-missing-role-claims' } });
    });

    it('refuses a requested role outside the allowed roles with access-denied', async () => {
      const res = await graphql(ROOMS, {}, { authorization: `Bearer ${token({ [HASURA_CLAIMS]: claims(['user']) })}`, 'x-hasura-role': 'chat_admin' });
      expect(res.body.errors?.[0]).toMatchObject({ message: 'Your requested role is not in allowed roles', extensions: { code: 'access-denied' } });
    });
  });

  it('answers a body that is not JSON with HTTP 200 and invalid-json, before it looks at the token', async () => {
    const res = await post('{"query": ', {});
    expect(res.status).toBe(200);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({ message: expect.stringMatching(/^Error in \$: /), extensions: { path: '$', code: 'invalid-json' } });
  });

  describe('database errors', () => {
    const LIKE = 'query ($p: String!) { chat_messages(where: { content: { _like: $p } }) { id } }';
    const BAN = `mutation ($object: chat_bans_insert_input!) { insert_chat_bans_one(object: $object) { id } }`;

    it('maps SQLSTATE 22025 (invalid escape sequence) to bad-request', async () => {
      // Postgres checks the pattern only against a row.
      await db.pool.query("INSERT INTO chat_messages (room_id, user_id, content, message_type) VALUES ($1, $2, 'a row to match', 'text')", [fixture.rooms.internal, AGENT]);
      const res = await graphql(LIKE, { p: '%\\' });
      expect(res.body.errors).toEqual([{ message: 'LIKE pattern must not end with escape character', extensions: { path: '$', code: 'bad-request' } }]);
    });

    it.each([false, true])('gives class 22 and 23 errors no extensions.internal, dev mode %s', async (devMode) => {
      hasura.internalErrors = devMode;
      const before = await snapshotChat(db.pool);
      const fk = await graphql(BAN, { object: { room_id: randomUUID(), user_id: ALICE, reason: 'x' } });
      expect(fk.body.errors?.[0]?.extensions).toEqual({ path: '$.selectionSet.insert_chat_bans_one.args.object', code: 'constraint-violation' });
      expect(fk.body.errors?.[0]?.message).toMatch(/^Foreign key violation\. /);
      const uuid = await graphql('query ($id: uuid!) { chat_rooms_by_pk(id: $id) { id } }', { id: 'not-a-uuid' });
      expect(uuid.body.errors?.[0]?.extensions).toEqual({ path: '$', code: 'data-exception' });
      expect(await snapshotChat(db.pool)).toBe(before);
    });

    describe('an error Hasura does not expect ("database query error")', () => {
      beforeAll(async () => {
        await db.pool.query(`CREATE FUNCTION standin_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
        await db.pool.query('CREATE TRIGGER standin_boom BEFORE INSERT ON chat_bans FOR EACH ROW EXECUTE FUNCTION standin_boom()');
      });
      afterAll(async () => {
        await db.pool.query('DROP TRIGGER standin_boom ON chat_bans');
        await db.pool.query('DROP FUNCTION standin_boom()');
      });
      const ban = () => graphql(BAN, { object: { room_id: fixture.rooms.community, user_id: ALICE, reason: 'x' } });

      it('hides its cause outside dev mode', async () => {
        expect((await ban()).body.errors).toEqual([{ message: 'database query error', extensions: { path: '$.selectionSet.insert_chat_bans_one.args.object', code: 'unexpected' } }]);
      });

      it('carries the Postgres error in extensions.internal in dev mode', async () => {
        hasura.internalErrors = true;
        const [error] = (await ban()).body.errors!;
        expect(error).toMatchObject({ message: 'database query error', extensions: { code: 'unexpected', internal: { error: { status_code: 'P0001', message: 'boom' } } } });
      });
    });
  });

  it("returns insert_one's row even where the role's select filter would hide it (mutation output has no row filter)", async () => {
    // A copy of the metadata whose user select filter hides every message: only then can the two differ.
    metadataDir = mkdtempSync(join(tmpdir(), 'hasura-metadata-'));
    cpSync(join(__dirname, '../../../../hasura-metadata'), metadataDir, { recursive: true });
    const file = join(metadataDir, 'databases/default/tables/public_chat_messages.yaml');
    const table = parse(readFileSync(file, 'utf8')) as { select_permissions: Array<{ role: string; permission: { filter: unknown } }> };
    table.select_permissions.find((p) => p.role === 'user')!.permission.filter = { content: { _eq: 'no message has this content' } };
    writeFileSync(file, stringify(table));
    const hidden = new HasuraStandIn({ pool: db.pool, cognito, metadataDir });
    await hidden.start();
    try {
      const headers = { authorization: `Bearer ${token()}`, 'x-hasura-role': 'user' };
      const send = `mutation ($object: chat_messages_insert_input!) { insert_chat_messages_one(object: $object) { id content } }`;
      const id = randomUUID();
      const body = JSON.stringify({ query: send, variables: { object: { id, room_id: fixture.rooms.internal, content: 'hidden from its sender', message_type: 'text' } } });
      expect((await post(body, headers, hidden.url)).body).toEqual({ data: { insert_chat_messages_one: { id, content: 'hidden from its sender' } } });
      const read = JSON.stringify({ query: 'query ($id: uuid!) { chat_messages_by_pk(id: $id) { id } }', variables: { id } });
      expect((await post(read, headers, hidden.url)).body).toEqual({ data: { chat_messages_by_pk: null } });
    } finally {
      await hidden.stop();
    }
  });
  it('with the engine log settings, logs what graphql-engine logs: a request refused before it ran without its parsed body or timings', async () => {
    const logging = new HasuraStandIn({ pool: db.pool, cognito, engineEnv: HASURA_LOGGING_ENV });
    await logging.start();
    try {
      const send = JSON.stringify({ query: 'mutation SendMessage { x }', variables: {}, operationName: 'SendMessage' });
      await post(send, {}, logging.url);
      await post('{"query": ', { authorization: `Bearer ${token()}` }, logging.url);
      await post(
        JSON.stringify({ query: 'query Rooms { chat_rooms { id } }', operationName: 'Rooms' }),
        { authorization: `Bearer ${token()}`, 'x-hasura-role': 'chat_admin', 'x-request-id': 'req-7' },
        logging.url,
      );
      const [unauthenticated, unparsable, ok] = logging.httpLog.map((l) => JSON.parse(l) as { level: string; detail: { operation: Record<string, unknown>; request_id: string } });
      // mkSpockAction logs both refusals with the raw body and no parsed request, session or timings.
      for (const [line, raw] of [
        [unauthenticated, send],
        [unparsable, '{"query": '],
      ] as const) {
        expect(line!.level).toBe('error');
        expect(line!.detail.operation).toMatchObject({ raw_query: raw, request_mode: 'error', error: expect.objectContaining({ code: expect.any(String) }) });
        expect(Object.keys(line!.detail.operation)).not.toEqual(expect.arrayContaining(['query']));
        expect(Object.keys(line!.detail.operation)).not.toEqual(expect.arrayContaining(['query_execution_time']));
        expect(Object.keys(line!.detail.operation)).not.toEqual(expect.arrayContaining(['user_vars']));
      }
      expect(ok).toMatchObject({
        level: 'info',
        detail: { request_id: 'req-7', operation: { query: { operationName: 'Rooms' }, request_mode: 'single', user_vars: { 'x-hasura-role': 'chat_admin' } } },
      });
      expect(ok!.detail.operation.query_execution_time).toEqual(expect.any(Number));
      expect(logging.httpLog).toHaveLength(3);
    } finally {
      await logging.stop();
    }
  });
});
