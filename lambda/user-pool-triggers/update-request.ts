import type { LambdaConfigType, UpdateUserPoolCommandInput, UserPoolType } from '@aws-sdk/client-cognito-identity-provider';

/** The trigger ARNs this app owns on the pool. */
export interface ChatTriggerArns {
  readonly preTokenGenerationArn: string;
  readonly postAuthenticationArn: string;
}

/**
 * UpdateUserPool resets every setting it is not sent to its default (Cognito API
 * reference, UpdateUserPool: "If you don't provide a value for an attribute, Amazon
 * Cognito sets it to its default value"). So the request re-sends every updatable
 * setting DescribeUserPool returned, with only LambdaConfig changed.
 */
const COPIED_SETTINGS = [
  'Policies',
  'DeletionProtection',
  'AutoVerifiedAttributes',
  'SmsVerificationMessage',
  'EmailVerificationMessage',
  'EmailVerificationSubject',
  'VerificationMessageTemplate',
  'SmsAuthenticationMessage',
  'UserAttributeUpdateSettings',
  'MfaConfiguration',
  'DeviceConfiguration',
  'EmailConfiguration',
  'SmsConfiguration',
  'UserPoolTags',
  'AdminCreateUserConfig',
  'UserPoolAddOns',
  'AccountRecoverySetting',
  'UserPoolTier',
] as const satisfies readonly (keyof UserPoolType & keyof UpdateUserPoolCommandInput)[];

function settingsOf(pool: UserPoolType): UpdateUserPoolCommandInput {
  if (!pool.Id) throw new Error('DescribeUserPool returned a pool without an Id');
  const input: Record<string, unknown> = { UserPoolId: pool.Id, PoolName: pool.Name };
  for (const key of COPIED_SETTINGS) if (pool[key] !== undefined) input[key] = pool[key];
  const adminCreate = pool.AdminCreateUserConfig;
  if (adminCreate) {
    // Deprecated in favour of Policies.PasswordPolicy.TemporaryPasswordValidityDays, which
    // DescribeUserPool also returns; Cognito rejects a request that sends both.
    const { UnusedAccountValidityDays: _dropped, ...rest } = adminCreate;
    input.AdminCreateUserConfig = rest;
  }
  return input as unknown as UpdateUserPoolCommandInput;
}

function currentPreToken(config: LambdaConfigType): string | undefined {
  return config.PreTokenGenerationConfig?.LambdaArn ?? config.PreTokenGeneration;
}

/**
 * The UpdateUserPool request that attaches the chat triggers, keeping every other
 * trigger and setting. Refuses to replace a trigger someone else put there: the
 * pool may be shared with other Phenom apps. `ownedBefore` are ARNs this app set
 * in an earlier deploy (a function replaced since).
 */
export function attachRequest(pool: UserPoolType, arns: ChatTriggerArns, ownedBefore: readonly string[] = []): UpdateUserPoolCommandInput {
  const input = settingsOf(pool);
  const existing = pool.LambdaConfig ?? {};
  const ours = new Set([arns.preTokenGenerationArn, arns.postAuthenticationArn, ...ownedBefore]);
  const conflicts: string[] = [];
  const preToken = currentPreToken(existing);
  if (preToken && !ours.has(preToken)) conflicts.push(`pre token generation (${preToken})`);
  if (existing.PostAuthentication && !ours.has(existing.PostAuthentication)) conflicts.push(`post authentication (${existing.PostAuthentication})`);
  if (conflicts.length > 0) {
    throw new Error(
      `user pool ${pool.Id} already has a ${conflicts.join(' and a ')} trigger that is not the chat app's; ` +
        'attaching the chat triggers would replace it. Remove it from the pool or merge its logic, then deploy again.',
    );
  }
  input.LambdaConfig = {
    ...existing,
    PostAuthentication: arns.postAuthenticationArn,
    // V1_0: string claims in the ID token, on every feature plan (contract C3).
    PreTokenGeneration: arns.preTokenGenerationArn,
    PreTokenGenerationConfig: { LambdaVersion: 'V1_0', LambdaArn: arns.preTokenGenerationArn },
  };
  return input;
}

/** The UpdateUserPool request that removes the chat triggers (only if they are still ours). */
export function detachRequest(pool: UserPoolType, arns: ChatTriggerArns): UpdateUserPoolCommandInput {
  const input = settingsOf(pool);
  const lambdaConfig: LambdaConfigType = { ...pool.LambdaConfig };
  if (currentPreToken(lambdaConfig) === arns.preTokenGenerationArn) {
    delete lambdaConfig.PreTokenGeneration;
    delete lambdaConfig.PreTokenGenerationConfig;
  }
  if (lambdaConfig.PostAuthentication === arns.postAuthenticationArn) delete lambdaConfig.PostAuthentication;
  input.LambdaConfig = lambdaConfig;
  return input;
}
