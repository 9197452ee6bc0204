import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { MatrixHomeserver } from '../../support/matrix-homeserver';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { handler as startHandler } from '../../../lambda/synapse-bootstrap-start';
import { DEPLOY_STEPS } from '../../../chat-domain/deploy-step-limits';

type IsCompleteEvent = CloudFormationCustomResourceEvent & { Data?: Record<string, string> };
type Handler = (event: IsCompleteEvent, context: { getRemainingTimeInMillis(): number }) => Promise<{ IsComplete: boolean; Data?: Record<string, string> }>;

/** A poll early in the bootstrap Lambda's two minutes. */
const lambdaContext = { getRemainingTimeInMillis: () => 110_000 };

const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-synapse-${name}-AbCdEf`;
const SHARED_SECRET_ARN = arn('registration-shared-secret');
const BOT_PASSWORD_ARN = arn('admin-bot-password');
const BOT_TOKEN_ARN = arn('admin-bot-token');
const SHARED_SECRET = randomBytes(24).toString('hex');

let hs: MatrixHomeserver;
let secrets: SecretsManagerStandIn;
let handler: Handler;
const savedEnv = { ...process.env };

const request = (requestType: 'Create' | 'Update' | 'Delete') =>
  customResourceEvent({
    requestType,
    resourceType: 'Custom::SynapseBootstrap',
    properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', TaskDefinitionArn: 'arn:td:1' },
    extra: requestType === 'Create' ? {} : { PhysicalResourceId: 'synapse-bootstrap' },
  });

/**
 * What the provider framework polls isComplete with: CloudFormation's request merged with the
 * start step's answer (PhysicalResourceId, Data), as its createResponseEvent does.
 */
async function event(requestType: 'Create' | 'Update' | 'Delete', data?: Record<string, string>): Promise<IsCompleteEvent> {
  const cfn = request(requestType);
  const started = await startHandler(cfn);
  return { ...cfn, ...started, ...(data ? { Data: data } : {}) } as IsCompleteEvent;
}
const poll = async (requestType: 'Create' | 'Update' | 'Delete', data?: Record<string, string>) => handler(await event(requestType, data), lambdaContext);

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
    expect(await poll('Create')).toEqual({ IsComplete: false });
    expect(hs.requests.map((r) => r.path)).toEqual(['/health']);
    expect(secrets.writes).toEqual([]);
    hs.healthy = true;
  });

  it('once healthy, bootstraps, stores the bot token in Secrets Manager and returns the room ids', async () => {
    const result = await poll('Create');
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
    const result = await poll('Update');
    expect(result.IsComplete).toBe(true);
    expect(hs.writes().length).toBe(writesBefore);
    expect(secrets.writes).toEqual([BOT_TOKEN_ARN]);
  });

  it('fails the deploy, naming where to look, once Synapse has been unhealthy for the whole wait limit', async () => {
    hs.healthy = false;
    try {
      const limitMs = DEPLOY_STEPS.synapseBootstrap.totalTimeoutSeconds * 1000;
      // Just inside the limit it keeps polling; past it, it fails instead of letting CloudFormation wait on.
      expect(await poll('Update', { WaitStartedAt: new Date(Date.now() - limitMs + 60_000).toISOString() })).toEqual({ IsComplete: false });
      await expect(poll('Update', { WaitStartedAt: new Date(Date.now() - limitMs - 1_000).toISOString() })).rejects.toThrow(
        `Synapse did not answer 200 on ${hs.url}/health within 30 minutes of this deploy; check the Synapse ECS service's events and its task logs`,
      );
    } finally {
      hs.healthy = true;
    }
  });

  it("refuses a poll that does not carry the start step's stamp", async () => {
    await expect(handler(request('Create'), lambdaContext)).rejects.toThrow('the isComplete event has no valid Data.WaitStartedAt (got undefined)');
  });

  it('the start step names the resource and stamps the start of the wait', async () => {
    const before = Date.now();
    const started = await startHandler(request('Create'));
    expect(started.PhysicalResourceId).toBe('synapse-bootstrap');
    expect(Date.parse(started.Data!.WaitStartedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(await startHandler(request('Delete'))).toEqual({ PhysicalResourceId: 'synapse-bootstrap' });
  });

  it('a Delete completes at once and leaves the homeserver alone', async () => {
    const before = hs.requests.length;
    expect(await poll('Delete')).toEqual({ IsComplete: true });
    expect(hs.requests.length).toBe(before);
  });
});
