import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { createUserPoolTriggersHandler } from '../../../lambda/user-pool-triggers';
import { CognitoStandIn, startCognitoStandIn } from '../../support/aws/cognito-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';

const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const PRE_TOKEN = fn('PhenomChat-development-PreTokenGeneration-A1');
const POST_AUTH = fn('PhenomChat-development-UserProvisioner-B2');

/** An existing Phenom pool as DescribeUserPool returns it (API reference, UserPoolType), with another app's trigger. */
const existingPool = (id: string) => ({
  Id: id,
  Name: 'phenom-users',
  Policies: {
    PasswordPolicy: { MinimumLength: 10, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: false, TemporaryPasswordValidityDays: 5 },
    SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD'] },
  },
  DeletionProtection: 'ACTIVE',
  LambdaConfig: { PreSignUp: fn('phenom-presignup'), CustomMessage: fn('phenom-messages') },
  AutoVerifiedAttributes: ['email'],
  UsernameAttributes: ['email'],
  VerificationMessageTemplate: { DefaultEmailOption: 'CONFIRM_WITH_CODE', EmailMessage: 'Your code is {####}', EmailSubject: 'Phenom code' },
  EmailVerificationMessage: 'Your code is {####}',
  EmailVerificationSubject: 'Phenom code',
  MfaConfiguration: 'OPTIONAL',
  EstimatedNumberOfUsers: 1200,
  EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' },
  SmsConfiguration: { SnsCallerArn: 'arn:aws:iam::123456789012:role/phenom-cognito-sms', ExternalId: 'phenom', SnsRegion: 'us-east-1' },
  UserPoolTags: { project: 'phenom' },
  AdminCreateUserConfig: { AllowAdminCreateUserOnly: false, UnusedAccountValidityDays: 5, InviteMessageTemplate: { EmailSubject: 'Welcome' } },
  UserPoolAddOns: { AdvancedSecurityMode: 'OFF' },
  AccountRecoverySetting: { RecoveryMechanisms: [{ Priority: 1, Name: 'verified_email' }] },
  UserPoolTier: 'ESSENTIALS',
  UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
  Arn: `arn:aws:cognito-idp:us-east-1:123456789012:userpool/${id}`,
  CreationDate: 1700000000,
  LastModifiedDate: 1700000000,
});

let cognito: CognitoStandIn;
let handler: ReturnType<typeof createUserPoolTriggersHandler>;

beforeEach(async () => {
  cognito = await startCognitoStandIn();
  cognito.userPool = existingPool(cognito.userPoolId);
  handler = createUserPoolTriggersHandler(new CognitoIdentityProviderClient({ endpoint: cognito.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } }));
});
afterEach(() => cognito.close());

const props = (overrides: Record<string, string> = {}) => ({
  ServiceToken: fn('provider'),
  UserPoolId: cognito.userPoolId,
  PreTokenGenerationArn: PRE_TOKEN,
  PostAuthenticationArn: POST_AUTH,
  ...overrides,
});

const cfnEvent = (requestType: 'Create' | 'Update' | 'Delete', resourceProps: ReturnType<typeof props> = props(), extra: Record<string, unknown> = {}) =>
  customResourceEvent({ requestType, resourceType: 'Custom::ChatUserPoolTriggers', properties: resourceProps, extra });

const updateRequests = () => cognito.calls.filter((c) => c.operation === 'UpdateUserPool').map((c) => c.body);

describe('attaching the chat triggers to an imported user pool', () => {
  it('adds both triggers (pre-token as V1_0) and re-sends every other setting unchanged', async () => {
    const result = await handler(cfnEvent('Create'));
    expect(result).toEqual({ PhysicalResourceId: `${cognito.userPoolId}/chat-triggers` });

    const [request] = updateRequests();
    const before = existingPool(cognito.userPoolId);
    expect(request.LambdaConfig).toEqual({
      PreSignUp: before.LambdaConfig.PreSignUp,
      CustomMessage: before.LambdaConfig.CustomMessage,
      PostAuthentication: POST_AUTH,
      PreTokenGeneration: PRE_TOKEN,
      PreTokenGenerationConfig: { LambdaVersion: 'V1_0', LambdaArn: PRE_TOKEN },
    });
    const { UnusedAccountValidityDays: _deprecated, ...adminCreate } = before.AdminCreateUserConfig;
    expect(request).toEqual({
      UserPoolId: cognito.userPoolId,
      PoolName: before.Name,
      Policies: before.Policies,
      DeletionProtection: before.DeletionProtection,
      LambdaConfig: expect.any(Object),
      AutoVerifiedAttributes: before.AutoVerifiedAttributes,
      VerificationMessageTemplate: before.VerificationMessageTemplate,
      EmailVerificationMessage: before.EmailVerificationMessage,
      EmailVerificationSubject: before.EmailVerificationSubject,
      MfaConfiguration: before.MfaConfiguration,
      EmailConfiguration: before.EmailConfiguration,
      SmsConfiguration: before.SmsConfiguration,
      UserPoolTags: before.UserPoolTags,
      AdminCreateUserConfig: adminCreate,
      UserPoolAddOns: before.UserPoolAddOns,
      AccountRecoverySetting: before.AccountRecoverySetting,
      UserPoolTier: before.UserPoolTier,
      UserAttributeUpdateSettings: before.UserAttributeUpdateSettings,
    });
  });

  it('is idempotent, and on an Update accepts the triggers it attached before (functions replaced since)', async () => {
    await handler(cfnEvent('Create'));
    await handler(cfnEvent('Create'));
    const newPost = fn('PhenomChat-development-UserProvisioner-C3');
    await handler(cfnEvent('Update', props({ PostAuthenticationArn: newPost }), { PhysicalResourceId: `${cognito.userPoolId}/chat-triggers`, OldResourceProperties: props() }));
    expect((cognito.userPool.LambdaConfig as Record<string, unknown>).PostAuthentication).toBe(newPost);
    expect((cognito.userPool.LambdaConfig as Record<string, unknown>).PreSignUp).toBe(fn('phenom-presignup'));
  });

  it('refuses to replace another app’s post-authentication or pre-token trigger, and changes nothing', async () => {
    (cognito.userPool.LambdaConfig as Record<string, unknown>).PostAuthentication = fn('phenom-audit');
    cognito.userPool.LambdaConfig = { ...(cognito.userPool.LambdaConfig as object), PreTokenGenerationConfig: { LambdaVersion: 'V2_0', LambdaArn: fn('phenom-claims') } };
    await expect(handler(cfnEvent('Create'))).rejects.toThrow(
      `user pool ${cognito.userPoolId} already has a pre token generation (${fn('phenom-claims')}) and a post authentication (${fn('phenom-audit')}) trigger that is not the chat app's`,
    );
    expect(updateRequests()).toEqual([]);
  });

  it('on Delete removes only its own triggers and keeps the rest', async () => {
    await handler(cfnEvent('Create'));
    await handler(cfnEvent('Delete', props(), { PhysicalResourceId: `${cognito.userPoolId}/chat-triggers` }));
    expect(cognito.userPool.LambdaConfig).toEqual(existingPool(cognito.userPoolId).LambdaConfig);
    expect(cognito.userPool.DeletionProtection).toBe('ACTIVE');
  });

  it('on Delete leaves a trigger alone that someone has since pointed elsewhere', async () => {
    await handler(cfnEvent('Create'));
    (cognito.userPool.LambdaConfig as Record<string, unknown>).PostAuthentication = fn('phenom-audit');
    await handler(cfnEvent('Delete', props(), { PhysicalResourceId: `${cognito.userPoolId}/chat-triggers` }));
    expect(cognito.userPool.LambdaConfig).toMatchObject({ PostAuthentication: fn('phenom-audit') });
    expect((cognito.userPool.LambdaConfig as Record<string, unknown>).PreTokenGenerationConfig).toBeUndefined();
  });

  it('on Delete succeeds when the pool no longer exists', async () => {
    await expect(handler(cfnEvent('Delete', props({ UserPoolId: 'us-east-1_Gone0000' }), { PhysicalResourceId: 'us-east-1_Gone0000/chat-triggers' }))).resolves.toEqual({
      PhysicalResourceId: 'us-east-1_Gone0000/chat-triggers',
    });
  });

  it('fails clearly when the pool does not exist on Create', async () => {
    await expect(handler(cfnEvent('Create', props({ UserPoolId: 'us-east-1_Gone0000' })))).rejects.toThrow('User pool us-east-1_Gone0000 does not exist.');
  });
});
