import type { Context } from 'aws-lambda';
import { adminTokenFromSecret, purgeConfigFromEnv } from '../../../lambda/synapse-purge-history/config';
import type { PurgeHistoryResult } from '../../../lambda/synapse-purge-history/purge';
import { startSecretsManagerStandIn, SecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { MatrixHomeserver } from '../../support/matrix-homeserver';
import { capturePowertoolsOutput } from '../../support/powertools-output';
import { standInAwsEnv } from '../../support/aws/sdk-env';

const SERVER = 'chat.example.test';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-synapse-bot-AbCdEf';
const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'purge', awsRequestId: 'req-1' } as unknown as Context;

type Handler = (event: object, context: Context) => Promise<PurgeHistoryResult>;

/** Loads the entry file fresh with `env` (its config is read at module scope, as in Lambda). */
async function loadHandler(env: Record<string, string>): Promise<Handler> {
  Object.assign(process.env, env);
  let handler: Handler | undefined;
  await jest.isolateModulesAsync(async () => {
    handler = (await import('../../../lambda/synapse-purge-history/index')).handler as Handler;
  });
  return handler!;
}

describe('history purge entry point', () => {
  let hs: MatrixHomeserver;
  let secrets: SecretsManagerStandIn;
  const saved = { ...process.env };

  beforeEach(async () => {
    hs = await MatrixHomeserver.start({ serverName: SERVER });
    secrets = await startSecretsManagerStandIn();
    Object.assign(process.env, {
      ...standInAwsEnv({ secretsManager: secrets.url }),
    });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await hs.stop();
    await secrets.close();
  });

  const env = () => ({
    SYNAPSE_URL: hs.url,
    ADMIN_TOKEN_SECRET_ARN: SECRET_ARN,
    ADMIN_TOKEN_SECRET_KEY_NAME: 'accessToken',
    RETENTION_DAYS: '90',
    ROOM_ALIASES: `#internal:${SERVER},#community:${SERVER}`,
  });

  test('reads the bot token from Secrets Manager and purges the configured rooms', async () => {
    const bot = hs.createUser('phenom-bot', { admin: true });
    for (const alias of ['internal', 'community']) {
      const res = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bot.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ room_alias_name: alias }),
      });
      const { room_id } = (await res.json()) as { room_id: string };
      hs.injectMessage(room_id, '@remote:elsewhere.test', 'ancient', Date.now() - 200 * 86_400_000);
      hs.injectMessage(room_id, '@remote:elsewhere.test', 'fresh', Date.now());
    }
    secrets.put(SECRET_ARN, JSON.stringify({ userId: bot.userId, accessToken: bot.accessToken }));
    const handler = await loadHandler(env());

    const output = capturePowertoolsOutput();
    let result: PurgeHistoryResult;
    try {
      result = await handler({ source: 'aws.events', time: new Date().toISOString() }, context);
    } finally {
      output.restore();
    }

    expect(secrets.requests).toEqual([SECRET_ARN]);
    expect(result.rooms.map((r) => r.outcome)).toEqual(['purged', 'purged']);
    for (const alias of ['internal', 'community']) {
      const roomId = hs.roomIdForAlias(`#${alias}:${SERVER}`)!;
      expect(
        hs
          .timeline(roomId)
          .filter((e) => e.type === 'm.room.message')
          .map((e) => e.content.body),
      ).toEqual(['fresh']);
    }
  });

  test('fails the invocation (so the Errors alarm fires) when a room could not be purged', async () => {
    const bot = hs.createUser('phenom-bot', { admin: true });
    await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room_alias_name: 'internal' }),
    });
    const notAdmin = hs.createUser('someone');
    secrets.put(SECRET_ARN, JSON.stringify({ accessToken: notAdmin.accessToken }));
    const handler = await loadHandler({ ...env(), ROOM_ALIASES: `#internal:${SERVER}` });

    const output = capturePowertoolsOutput();
    try {
      await expect(handler({}, context)).rejects.toThrow(/history purge failed for #internal:chat.example.test \(.*403 M_FORBIDDEN/);
    } finally {
      output.restore();
    }
  });
});

describe('history purge configuration', () => {
  const base = { SYNAPSE_URL: 'http://synapse.internal:8008', ADMIN_TOKEN_SECRET_ARN: SECRET_ARN, RETENTION_DAYS: '90', ROOM_ALIASES: '#internal:s.test' };

  test('names the variable that is missing or wrong', () => {
    expect(() => purgeConfigFromEnv({ ...base, SYNAPSE_URL: undefined })).toThrow('SYNAPSE_URL must be set');
    expect(() => purgeConfigFromEnv({ ...base, SYNAPSE_URL: 'synapse:8008' })).toThrow(/SYNAPSE_URL must be an absolute http\(s\) URL/);
    expect(() => purgeConfigFromEnv({ ...base, RETENTION_DAYS: 'ninety' })).toThrow('RETENTION_DAYS must be a positive integer, got "ninety"');
    expect(() => purgeConfigFromEnv({ ...base, ROOM_ALIASES: '#internal:s.test,internal' })).toThrow('ROOM_ALIASES: "internal" is not a room alias');
    expect(() => purgeConfigFromEnv({ ...base, ROOM_ALIASES: '' })).toThrow('set ROOM_ALIASES (comma-separated) or PURGE_ALL_ROOMS=true');
    expect(purgeConfigFromEnv({ ...base, ROOM_ALIASES: '', PURGE_ALL_ROOMS: 'true' }).rooms).toEqual({ kind: 'all' });
  });

  test('takes the token from a JSON key or the whole secret, and says what is wrong with a bad secret', () => {
    expect(adminTokenFromSecret('syt_abc', undefined)).toBe('syt_abc');
    expect(adminTokenFromSecret('{"accessToken":"syt_abc"}', 'accessToken')).toBe('syt_abc');
    expect(() => adminTokenFromSecret('syt_abc', 'accessToken')).toThrow('the admin token secret is not JSON, but ADMIN_TOKEN_SECRET_KEY_NAME is set to "accessToken"');
    expect(() => adminTokenFromSecret('{"token":"x"}', 'accessToken')).toThrow('the admin token secret has no string key "accessToken"');
    expect(() => adminTokenFromSecret('', undefined)).toThrow('the admin token secret is empty');
  });
});
