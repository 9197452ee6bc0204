import { AccountStandIn, startAccountStandIn } from '../../support/aws/account-stand-in';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { CapturedOutput, capturePowertoolsOutput } from '../../support/powertools-output';

type Handler = (event: unknown) => Promise<{ restarted: readonly string[] }>;

const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-development-${name}-AbCdEf`;
const HASURA_SECRET = secretArn('db-hasura');
const SYNAPSE_SECRET = secretArn('synapse-database');
const CLUSTER = 'phenom-development';
const HASURA = 'phenom-development-hasura';
const SYNAPSE = 'phenom-development-synapse';
const SYNAPSE_WORKER = 'phenom-development-synapse-worker';
const RESTARTS = [
  { secretArn: HASURA_SECRET, services: [HASURA] },
  { secretArn: SYNAPSE_SECRET, services: [SYNAPSE, SYNAPSE_WORKER] },
];

/**
 * A RotationSucceeded event as EventBridge delivers it from CloudTrail (Secrets Manager user guide,
 * "Log entries for rotation"; chat-domain/rotation-event.ts): the secret's ARN in additionalEventData.
 */
const rotationSucceeded = (secretId: unknown = HASURA_SECRET, detailType = 'AWS Service Event via CloudTrail') => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': detailType,
  source: 'aws.secretsmanager',
  account: '111122223333',
  time: '2026-12-01T20:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    eventVersion: '1.08',
    userIdentity: { accountId: '111122223333', invokedBy: 'secretsmanager.amazonaws.com' },
    eventTime: '2026-12-01T20:00:00Z',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'RotationSucceeded',
    awsRegion: 'us-east-1',
    sourceIPAddress: 'secretsmanager.amazonaws.com',
    userAgent: 'secretsmanager.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    additionalEventData: { SecretId: secretId },
    eventType: 'AwsServiceEvent',
    recipientAccountId: '111122223333',
  },
});

let account: AccountStandIn;
let handler: Handler;
let output: CapturedOutput;
const savedEnv = { ...process.env };
const deployments = (service: string) => account.services.get(`${CLUSTER}/${service}`)!.deployments;

beforeAll(async () => {
  account = await startAccountStandIn();
  Object.assign(process.env, {
    ...standInAwsEnv({ account: account.url }),
    CLUSTER: `arn:aws:ecs:us-east-1:111122223333:cluster/${CLUSTER}`,
    RESTARTS: JSON.stringify(RESTARTS),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-rotation-restart',
  });
  ({ handler } = (await import('../../../lambda/rotation-restart/index')) as unknown as { handler: Handler });
});
beforeEach(() => {
  output = capturePowertoolsOutput();
  account.calls.length = 0;
  account.clusters.set(CLUSTER, { status: 'ACTIVE' });
  for (const service of [HASURA, SYNAPSE, SYNAPSE_WORKER]) account.services.set(`${CLUSTER}/${service}`, { status: 'ACTIVE', desiredCount: 2, deployments: 1 });
});
afterEach(() => {
  output.restore();
  process.env.RESTARTS = JSON.stringify(RESTARTS);
});
afterAll(async () => {
  process.env = savedEnv;
  await account.close();
});

describe('rotation-restart handler (ECS stand-in)', () => {
  it("a rotation of Hasura's secret: one UpdateService with forceNewDeployment, on Hasura only", async () => {
    await expect(handler(rotationSucceeded())).resolves.toEqual({ restarted: [HASURA] });
    expect(account.calls).toEqual(['ecs:UpdateService']);
    expect([deployments(HASURA), deployments(SYNAPSE), deployments(SYNAPSE_WORKER)]).toEqual([2, 1, 1]);
    expect(output.logs('service restarting')).toEqual([
      expect.objectContaining({ ecsService: HASURA, secret: HASURA_SECRET, serviceArn: `arn:aws:ecs:us-east-1:111122223333:service/${CLUSTER}/${HASURA}`, deployments: 2 }),
    ]);
  });

  it("a rotation of Synapse's secret: every service listed for it restarts, Hasura does not", async () => {
    await expect(handler(rotationSucceeded(SYNAPSE_SECRET))).resolves.toEqual({ restarted: [SYNAPSE, SYNAPSE_WORKER] });
    expect(account.calls).toEqual(['ecs:UpdateService', 'ecs:UpdateService']);
    expect([deployments(HASURA), deployments(SYNAPSE), deployments(SYNAPSE_WORKER)]).toEqual([1, 2, 2]);
  });

  it('accepts the event under either detail-type the EventBridge page matches rotations with', async () => {
    await expect(handler(rotationSucceeded(SYNAPSE_SECRET, 'AWS API Call via CloudTrail'))).resolves.toEqual({ restarted: [SYNAPSE, SYNAPSE_WORKER] });
  });

  it('a rotation of another secret: nothing called, a warning that says so', async () => {
    await expect(handler(rotationSucceeded(secretArn('db-mcp')))).resolves.toEqual({ restarted: [] });
    expect(account.calls).toEqual([]);
    expect(output.logs('a rotation of a secret no service here reads at start')).toHaveLength(1);
  });

  it('a malformed event: a clear error, nothing called', async () => {
    await expect(handler({ ...rotationSucceeded(), source: 'aws.ecs' })).rejects.toThrow(/not a Secrets Manager event from CloudTrail: source aws.ecs/);
    await expect(handler(rotationSucceeded(HASURA_SECRET, 'Secret Label Updated'))).rejects.toThrow(/detail-type Secret Label Updated/);
    const failed = rotationSucceeded();
    await expect(handler({ ...failed, detail: { ...failed.detail, eventName: 'RotationFailed' } })).rejects.toThrow(/not a RotationSucceeded event: secretsmanager.amazonaws.com RotationFailed/);
    await expect(handler(rotationSucceeded(null))).rejects.toThrow(/names no secret ARN \(detail.additionalEventData.SecretId is null\)/);
    await expect(handler(rotationSucceeded('phenom-development-db-hasura'))).rejects.toThrow(/names no secret ARN/);
    await expect(handler(null)).rejects.toThrow(/not a Secrets Manager event/);
    expect(account.calls).toEqual([]);
  });

  it('a broken RESTARTS table: a clear error before any call', async () => {
    for (const [value, message] of [
      ['', /RESTARTS is not set/],
      ['{', /RESTARTS is not JSON/],
      ['[]', /non-empty list/],
      [JSON.stringify([{ secretArn: 'db-hasura', services: [HASURA] }]), /RESTARTS\[0\].secretArn must be a secret ARN/],
      [JSON.stringify([{ secretArn: HASURA_SECRET, services: [] }]), /RESTARTS\[0\].services must be a non-empty list/],
      [JSON.stringify([RESTARTS[0], RESTARTS[0]]), /lists the secret .* twice/],
    ] as const) {
      process.env.RESTARTS = value;
      await expect(handler(rotationSucceeded())).rejects.toThrow(message);
    }
    expect(account.calls).toEqual([]);
  });

  it('an ECS error fails the invocation after trying every service, so EventBridge retries it', async () => {
    account.services.delete(`${CLUSTER}/${SYNAPSE}`);
    await expect(handler(rotationSucceeded(SYNAPSE_SECRET))).rejects.toThrow(new RegExp(`not restarted after the rotation of .*synapse-database.*: ${SYNAPSE}: Service not found`));
    // The worker listed after the failed service was still restarted.
    expect(deployments(SYNAPSE_WORKER)).toBe(2);
    account.services.set(`${CLUSTER}/${HASURA}`, { status: 'DRAINING', desiredCount: 0, deployments: 1 });
    await expect(handler(rotationSucceeded())).rejects.toThrow(/Service was not ACTIVE/);
    account.clusters.delete(CLUSTER);
    await expect(handler(rotationSucceeded())).rejects.toThrow(/Cluster not found/);
  });
});
