import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { standInAwsEnv } from '../../../../../test/support/aws/sdk-env';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../../../../test/support/aws/secrets-manager-stand-in';
import { testServerUrl } from '../../../../../test/support/postgres';
import { connectAs } from '../../../../../test/support/postgres/connect';
import { alternateUsername, rotateAlternatingUsers, rotateSingleUser, type RoleSecret } from '../../../../../test/support/postgres/rotation';
import { connect, type ConnectedClient } from '../../support/clients';
import { startEnvironment, type Environment } from '../../support/environment';

/**
 * The bundled server, BACKEND_TYPE=postgres, logging in as a role whose secret it reads from Secrets
 * Manager (the stand-in) at run time, keeps answering tool calls while that secret rotates under it:
 * a login refused with the old password re-reads the secret once and the call goes through.
 */
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-test-mcp-role-AbCdEf';
const role = `mcp_rotation_${randomBytes(4).toString('hex')}`;
let secrets: SecretsManagerStandIn;
let env: Environment;
let client: ConnectedClient;
let master: Client;

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
  const first: RoleSecret = { username: role, password: randomBytes(16).toString('hex'), engine: 'postgres' };
  secrets.put(ARN, JSON.stringify(first));
  const server = new URL(testServerUrl());
  env = await startEnvironment((_issuer, db) => ({
    // No DATABASE_URL: the deployed settings, with the login from the secret.
    DATABASE_URL: '',
    DB_HOST: server.hostname,
    DB_PORT: server.port,
    DB_NAME: db.name,
    DB_SSL: 'disable',
    DB_SECRET_ARN: ARN,
    ...standInAwsEnv({ secretsManager: secrets.url }),
  }));
  master = await connectAs(undefined, env.db.name);
  await master.query(`CREATE ROLE ${role} LOGIN PASSWORD '${first.password}'`);
  await master.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
  await master.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  client = await connect('sdk-v2 legacy (2025-11-25)', env.server.mcpUrl, env.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await master?.end();
  await env?.teardown();
  // Roles are the server's, not the dropped database's: nothing of theirs is left once it is gone.
  const admin = await connectAs();
  try {
    for (const name of [alternateUsername(role), role]) await admin.query(`DROP ROLE IF EXISTS ${name}`);
  } finally {
    await admin.end();
  }
  await secrets?.close();
});

/**
 * Ends the role's sessions, as the pool's own idle timeout would, so the next call logs in again (a
 * password change leaves open sessions alone), and waits until the server has seen each one end.
 */
async function endSessions(): Promise<void> {
  const seen = env.server.logs.filter((l) => l.msg === 'idle postgres client error').length;
  const { rows } = await master.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY($1) AND datname = current_database()) t`,
    [[role, alternateUsername(role)]],
  );
  for (let i = 0; i < 400 && env.server.logs.filter((l) => l.msg === 'idle postgres client error').length < seen + rows[0].n; i++) await new Promise((r) => setTimeout(r, 25));
}

it('answers every tool call through a single-user rotation and two alternating-users rotations', async () => {
  let current = JSON.parse(secrets.get(ARN)!) as RoleSecret;
  const publish = (next: RoleSecret) => secrets.put(ARN, JSON.stringify(next));
  const failures: string[] = [];
  for (let call = 0; call < 12; call++) {
    if (call === 3) current = await rotateSingleUser(master, current, publish);
    if (call === 6) current = await rotateAlternatingUsers(master, current, publish);
    if (call === 9) current = await rotateAlternatingUsers(master, current, publish);
    if (call % 3 === 0 && call > 0) await endSessions();
    const answer = await client.callTool('chat_list_rooms', {});
    if (answer.isError) failures.push(`call ${call}: ${answer.content[0]?.text}`);
  }
  expect(failures).toEqual([]);
  // Read at start, then once after each rotation that changed the password the server held (not after the first alternating one).
  expect(secrets.requests.filter((id) => id === ARN)).toHaveLength(3);
  expect(current.username).toBe(role);
}, 60_000);
