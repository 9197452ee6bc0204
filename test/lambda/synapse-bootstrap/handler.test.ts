import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { MatrixHomeserver } from '../../support/matrix-homeserver';
import { standInAwsEnv } from '../../support/aws/sdk-env';

type Handler = (event: CloudFormationCustomResourceEvent) => Promise<{ IsComplete: boolean; Data?: Record<string, string> }>;

const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-synapse-${name}-AbCdEf`;
const SHARED_SECRET_ARN = arn('registration-shared-secret');
const BOT_PASSWORD_ARN = arn('admin-bot-password');
const BOT_TOKEN_ARN = arn('admin-bot-token');
const SHARED_SECRET = randomBytes(24).toString('hex');

let hs: MatrixHomeserver;
let secrets: SecretsManagerStandIn;
let handler: Handler;
const savedEnv = { ...process.env };

const event = (requestType: 'Create' | 'Update' | 'Delete') =>
  customResourceEvent({
    requestType,
    resourceType: 'Custom::SynapseBootstrap',
    properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', TaskDefinitionArn: 'arn:td:1' },
    extra: requestType === 'Create' ? {} : { PhysicalResourceId: 'synapse-bootstrap' },
  });

beforeAll(async () => {
  [hs, secrets] = await Promise.all([MatrixHomeserver.start({ serverName: 'chat.example.test', registrationSharedSecret: SHARED_SECRET }), startSecretsManagerStandIn()]);
  secrets.put(SHARED_SECRET_ARN, SHARED_SECRET);
  secrets.put(BOT_PASSWORD_ARN, randomBytes(20).toString('hex'));
  // What the stack creates before the first bootstrap: a random placeholder, not JSON.
  secrets.put(BOT_TOKEN_ARN, randomBytes(16).toString('hex'));
  Object.assign(process.env, {
    SYNAPSE_URL: hs.url,
    BOT_LOCALPART: 'phenom-bot',
    REGISTRATION_SHARED_SECRET_ARN: SHARED_SECRET_ARN,
    BOT_PASSWORD_SECRET_ARN: BOT_PASSWORD_ARN,
    BOT_TOKEN_SECRET_ARN: BOT_TOKEN_ARN,
    ...standInAwsEnv({ secretsManager: secrets.url }),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-synapse-bootstrap',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../../lambda/synapse-bootstrap/index')) as unknown as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([hs?.stop(), secrets?.close()]);
});

describe('synapse-bootstrap isComplete handler', () => {
  it('answers "not yet" while Synapse is unhealthy, without touching it', async () => {
    hs.healthy = false;
    expect(await handler(event('Create'))).toEqual({ IsComplete: false });
    expect(hs.requests.map((r) => r.path)).toEqual(['/health']);
    expect(secrets.writes).toEqual([]);
    hs.healthy = true;
  });

  it('once healthy, bootstraps, stores the bot token in Secrets Manager and returns the room ids', async () => {
    const result = await handler(event('Create'));
    expect(result.IsComplete).toBe(true);
    expect(result.Data).toEqual({
      BotUserId: '@phenom-bot:chat.example.test',
      'RoomId.internal': hs.roomIdForAlias('#internal:chat.example.test'),
      'RoomId.partners': hs.roomIdForAlias('#partners:chat.example.test'),
      'RoomId.community': hs.roomIdForAlias('#community:chat.example.test'),
    });
    expect(secrets.writes).toEqual([BOT_TOKEN_ARN]);
    const stored = JSON.parse(secrets.get(BOT_TOKEN_ARN)!);
    expect(stored).toMatchObject({ userId: '@phenom-bot:chat.example.test', homeserverUrl: hs.url });
    expect(hs.user('@phenom-bot:chat.example.test')?.admin).toBe(true);
  });

  it('an Update re-run (e.g. a new Synapse task definition) changes nothing', async () => {
    const writesBefore = hs.writes().length;
    const result = await handler(event('Update'));
    expect(result.IsComplete).toBe(true);
    expect(hs.writes().length).toBe(writesBefore);
    expect(secrets.writes).toEqual([BOT_TOKEN_ARN]);
  });

  it('a Delete completes at once and leaves the homeserver alone', async () => {
    const before = hs.requests.length;
    expect(await handler(event('Delete'))).toEqual({ IsComplete: true });
    expect(hs.requests.length).toBe(before);
  });
});
