import type { Client, Pool } from 'pg';
import { INVALID_PASSWORD } from '../../../chat-clients/postgres-login';
import { lazyPool } from '../../../lambda/shared/database';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../../support/postgres';
import { connectAs, sqlState } from '../../support/postgres/connect';
import { rotateAlternatingUsers, rotateSingleUser, type RoleSecret } from '../../support/postgres/rotation';

/**
 * A Lambda's pool keeps serving while its role's secret rotates: the database refuses the cached
 * password once (28P01), the pool reads the secret again past the extension's cache, and the call is
 * made again. Real PostgreSQL 17; the secret is served as the Parameters and Secrets extension (with the
 * 5-minute cache ChatFunction configures) and Secrets Manager's JSON API serve it.
 */
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-test-app-role-AbCdEf';
const savedEnv = { ...process.env };
let secrets: SecretsManagerStandIn;
let db: TestDatabase;
let master: Client;
let roleSeq = 0;

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn({ extensionTtlSeconds: 300 });
  Object.assign(process.env, standInAwsEnv({ secretsManager: secrets.url }));
  db = await createTestDatabase('rotation');
  master = await connectAs(undefined, db.name);
  await master.query('CREATE TABLE readings (id int PRIMARY KEY)');
  await master.query('INSERT INTO readings SELECT generate_series(1, 3)');
});
afterAll(async () => {
  process.env = savedEnv;
  await master.end();
  await db.drop();
  await secrets.close();
});

/** A login role that may read `readings`, its secret published, and a pool of a Lambda configured for it. */
async function roleWithPool(): Promise<{ secret: RoleSecret; arn: string; pool: () => Promise<Pool> }> {
  const username = `app_reader_${++roleSeq}`;
  const secret: RoleSecret = { username, password: `first-${roleSeq}`, engine: 'postgres' };
  await master.query(`CREATE ROLE ${username} LOGIN PASSWORD '${secret.password}'`);
  await master.query(`GRANT SELECT ON readings TO ${username}`);
  const arn = `${ARN}-${roleSeq}`;
  secrets.put(arn, JSON.stringify(secret));
  const server = new URL(testServerUrl());
  const env = { DB_SECRET_ARN: arn, DB_HOST: server.hostname, DB_PORT: server.port, DB_NAME: db.name, ...secrets.extensionEnv };
  // maxUses 1: every call opens a new connection, so every call logs in (a password change leaves open sessions alone).
  return { secret, arn, pool: lazyPool({ maxUses: 1, ssl: false }, env) };
}

const publishTo = (arn: string) => (next: RoleSecret) => secrets.put(arn, JSON.stringify(next));

it('serves every call through a single-user rotation and two alternating-users rotations, re-reading the secret once per refused login', async () => {
  const { secret, arn, pool } = await roleWithPool();
  let current = secret;
  const answers: number[] = [];
  for (let call = 0; call < 30; call++) {
    if (call === 8) current = await rotateSingleUser(master, current, publishTo(arn));
    // The first alternating rotation moves the secret to <role>_clone; the old password still works, so nothing is re-read.
    if (call === 16) current = await rotateAlternatingUsers(master, current, publishTo(arn));
    // The second changes <role>'s password, the one the pool still holds: refused once, then re-read.
    if (call === 24) current = await rotateAlternatingUsers(master, current, publishTo(arn));
    const p = await pool();
    if (call % 2 === 0) {
      answers.push(Number((await p.query<{ n: string }>('SELECT count(*) AS n FROM readings')).rows[0].n));
    } else {
      const client = await p.connect();
      try {
        answers.push(Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM readings')).rows[0].n));
      } finally {
        client.release();
      }
    }
  }
  expect(answers).toEqual(Array(30).fill(3));
  // The extension kept serving its cached first value; each refused login read Secrets Manager itself.
  expect(secrets.requests.filter((id) => id === arn)).toHaveLength(2);
  expect((await pool()).options.user).toBe(current.username);
  expect(current.username).toBe(secret.username);
});

it('retries a refused login once only, and never retries another error', async () => {
  const { secret, arn, pool } = await roleWithPool();
  await (await pool()).query('SELECT 1');
  // The database changes, but the secret says nothing new: the one retry is refused too, and the call fails.
  await master.query(`ALTER ROLE ${secret.username} PASSWORD 'known-to-nobody'`);
  expect(await sqlState(async () => (await pool()).query('SELECT 1'))).toBe(INVALID_PASSWORD);
  expect(secrets.requests.filter((id) => id === arn)).toHaveLength(1);
  // A statement error is the statement's: no second read, no second try.
  await master.query(`ALTER ROLE ${secret.username} PASSWORD '${secret.password}'`);
  expect(await sqlState(async () => (await pool()).query('SELECT * FROM no_such_table'))).toBe('42P01');
  expect(secrets.requests.filter((id) => id === arn)).toHaveLength(1);
});
