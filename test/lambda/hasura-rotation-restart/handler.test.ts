import { AccountStandIn, startAccountStandIn } from '../../support/aws/account-stand-in';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { CapturedOutput, capturePowertoolsOutput } from '../../support/powertools-output';

type Handler = (event: unknown) => Promise<{ restarted: boolean }>;

const HASURA_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-development-db-hasura-AbCdEf';
const CLUSTER = 'phenom-development';
const SERVICE = 'phenom-development-hasura';

/** A RotationSucceeded event as EventBridge delivers it from CloudTrail (Secrets Manager user guide, log entries for rotation). */
const rotationSucceeded = (secretId: unknown = HASURA_SECRET) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'AWS Service Event via CloudTrail',
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
const deployments = () => account.services.get(`${CLUSTER}/${SERVICE}`)!.deployments;

beforeAll(async () => {
  account = await startAccountStandIn();
  Object.assign(process.env, {
    ...standInAwsEnv({ account: account.url }),
    CLUSTER: `arn:aws:ecs:us-east-1:111122223333:cluster/${CLUSTER}`,
    SERVICE,
    SECRET_ARN: HASURA_SECRET,
    POWERTOOLS_SERVICE_NAME: 'phenom-test-hasura-rotation-restart',
  });
  ({ handler } = (await import('../../../lambda/hasura-rotation-restart/index')) as unknown as { handler: Handler });
});
beforeEach(() => {
  output = capturePowertoolsOutput();
  account.calls.length = 0;
  account.clusters.set(CLUSTER, { status: 'ACTIVE' });
  account.services.set(`${CLUSTER}/${SERVICE}`, { status: 'ACTIVE', desiredCount: 2, deployments: 1 });
});
afterEach(() => output.restore());
afterAll(async () => {
  process.env = savedEnv;
  await account.close();
});

describe('hasura-rotation-restart handler (ECS stand-in)', () => {
  it("a rotation of Hasura's secret: one UpdateService with forceNewDeployment on the configured cluster and service", async () => {
    await expect(handler(rotationSucceeded())).resolves.toEqual({ restarted: true });
    expect(account.calls).toEqual(['ecs:UpdateService']);
    expect(deployments()).toBe(2);
    expect(output.logs('Hasura restarting')).toEqual([
      expect.objectContaining({ ecsService: SERVICE, serviceArn: `arn:aws:ecs:us-east-1:111122223333:service/${CLUSTER}/${SERVICE}`, deployments: 2 }),
    ]);
  });

  it('a rotation of another secret: nothing called, a warning that says so', async () => {
    await expect(handler(rotationSucceeded(HASURA_SECRET.replace('hasura', 'mcp')))).resolves.toEqual({ restarted: false });
    expect(account.calls).toEqual([]);
    expect(output.logs('a rotation of another secret')).toHaveLength(1);
  });

  it('a malformed event: a clear error, nothing called', async () => {
    await expect(handler({ ...rotationSucceeded(), source: 'aws.ecs' })).rejects.toThrow(/not a Secrets Manager service event: source aws.ecs/);
    const failed = rotationSucceeded();
    await expect(handler({ ...failed, detail: { ...failed.detail, eventName: 'RotationFailed' } })).rejects.toThrow(/not a RotationSucceeded event: secretsmanager.amazonaws.com RotationFailed/);
    await expect(handler(rotationSucceeded(null))).rejects.toThrow(/names no secret ARN \(detail.additionalEventData.SecretId is null\)/);
    await expect(handler(rotationSucceeded(42))).rejects.toThrow(/names no secret ARN \(detail.additionalEventData.SecretId is 42\)/);
    await expect(handler(null)).rejects.toThrow(/not a Secrets Manager service event/);
    expect(account.calls).toEqual([]);
  });

  it('an ECS error fails the invocation, so EventBridge retries it', async () => {
    account.services.delete(`${CLUSTER}/${SERVICE}`);
    await expect(handler(rotationSucceeded())).rejects.toThrow(/Service not found/);
    account.services.set(`${CLUSTER}/${SERVICE}`, { status: 'DRAINING', desiredCount: 0, deployments: 1 });
    await expect(handler(rotationSucceeded())).rejects.toThrow(/Service was not ACTIVE/);
    account.clusters.delete(CLUSTER);
    await expect(handler(rotationSucceeded())).rejects.toThrow(/Cluster not found/);
  });
});
