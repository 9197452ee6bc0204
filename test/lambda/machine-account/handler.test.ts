import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createMachineAccountHandler } from '../../../lambda/machine-account';
import { CognitoStandIn, startCognitoStandIn } from '../../support/aws/cognito-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-chat-agent-password-AbCdEf';
const USERNAME = 'chat-mcp-agent@chat-testing.thephenom.app';
const PASSWORD = 'Zq8!vR2#kP9$wL4%tN6&yB1*cX3(mH5)';

let cognito: CognitoStandIn;
let secrets: SecretsManagerStandIn;
let handler: ReturnType<typeof createMachineAccountHandler>;

beforeEach(async () => {
  [cognito, secrets] = await Promise.all([startCognitoStandIn(), startSecretsManagerStandIn()]);
  cognito.groups.add('chat-admin');
  secrets.put(SECRET_ARN, JSON.stringify({ username: USERNAME, password: PASSWORD }));
  handler = createMachineAccountHandler({
    cognito: new CognitoIdentityProviderClient({ endpoint: cognito.url, region: 'us-east-1', credentials }),
    secrets: new SecretsManagerClient({ endpoint: secrets.url, region: 'us-east-1', credentials }),
  });
});
afterEach(async () => {
  await Promise.all([cognito.close(), secrets.close()]);
});

const properties = (overrides: Record<string, string> = {}) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  UserPoolId: cognito.userPoolId,
  Username: USERNAME,
  GroupName: 'chat-admin',
  PasswordSecretArn: SECRET_ARN,
  ...overrides,
});

const cfnEvent = (requestType: 'Create' | 'Update' | 'Delete', props: ReturnType<typeof properties> = properties(), extra: Record<string, unknown> = {}) =>
  customResourceEvent({ requestType, resourceType: 'Custom::ChatMachineAccount', properties: props, extra });

describe('machine account custom resource', () => {
  it('creates the user without an invitation, sets the generated password as permanent, and adds it to chat-admin', async () => {
    const result = await handler(cfnEvent('Create'));

    const user = cognito.users.get(USERNAME)!;
    expect(user).toMatchObject({ status: 'CONFIRMED', password: PASSWORD });
    expect([...user.groups]).toEqual(['chat-admin']);
    expect(user.attributes).toMatchObject({ email: USERNAME, email_verified: 'true' });
    expect(cognito.calls.find((c) => c.operation === 'AdminCreateUser')?.body).toMatchObject({ MessageAction: 'SUPPRESS' });
    expect(result).toEqual({ PhysicalResourceId: `${cognito.userPoolId}/${USERNAME}`, Data: { Sub: user.attributes.sub, Username: USERNAME } });
    // The password went from Secrets Manager to Cognito and nowhere else.
    expect(secrets.requests).toEqual([SECRET_ARN]);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('is idempotent: an Update (or a retried Create) converges on the same account', async () => {
    const first = await handler(cfnEvent('Create'));
    const again = await handler(cfnEvent('Update', properties(), { PhysicalResourceId: first.PhysicalResourceId, OldResourceProperties: properties() }));
    expect(again).toEqual(first);
    expect(cognito.users.size).toBe(1);
  });

  it('repairs an account someone left half-made (no group, temporary password)', async () => {
    const sub = cognito.addUser(USERNAME, [], { email: USERNAME });
    cognito.users.get(USERNAME)!.status = 'FORCE_CHANGE_PASSWORD';
    const result = await handler(cfnEvent('Create'));
    expect(result.Data?.Sub).toBe(sub);
    expect(cognito.users.get(USERNAME)).toMatchObject({ status: 'CONFIRMED', password: PASSWORD, groups: new Set(['chat-admin']) });
  });

  it('deletes the account on Delete, and a Delete of an account already gone succeeds', async () => {
    const { PhysicalResourceId } = await handler(cfnEvent('Create'));
    await handler(cfnEvent('Delete', properties(), { PhysicalResourceId }));
    expect(cognito.users.size).toBe(0);
    await expect(handler(cfnEvent('Delete', properties(), { PhysicalResourceId }))).resolves.toEqual({ PhysicalResourceId });
  });

  it('does nothing on the Delete of a Create that failed before it had a physical id', async () => {
    await handler(cfnEvent('Delete', properties(), { PhysicalResourceId: 'b2e4a5c0-0000-4000-8000-000000000001' }));
    expect(cognito.calls).toEqual([]);
  });

  it('fails with a clear reason when the group does not exist', async () => {
    await expect(handler(cfnEvent('Create', properties({ GroupName: 'no-such-group' })))).rejects.toThrow('Group not found.');
  });

  it('fails with a clear reason when the password secret has no password key, before touching Cognito', async () => {
    secrets.put(SECRET_ARN, JSON.stringify({ username: USERNAME }));
    await expect(handler(cfnEvent('Create'))).rejects.toThrow(`machine account: secret ${SECRET_ARN} has no "password" key`);
    expect(cognito.calls).toEqual([]);
  });

  it('fails naming the missing properties', async () => {
    const props = properties();
    delete (props as Partial<typeof props>).PasswordSecretArn;
    await expect(handler(cfnEvent('Create', props))).rejects.toThrow('machine account: missing resource properties PasswordSecretArn');
  });
});
