import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ResourceNotFoundException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** The custom resource's properties (strings, as CloudFormation passes them). */
export interface MachineAccountProperties {
  readonly UserPoolId: string;
  readonly Username: string;
  readonly GroupName: string;
  readonly PasswordSecretArn: string;
}

export interface MachineAccountClients {
  readonly cognito: CognitoIdentityProviderClient;
  readonly secrets: SecretsManagerClient;
}

/** Checks the properties and says which one is wrong: a template bug should fail the deploy clearly. */
export function parseProperties(props: Record<string, unknown> | undefined): MachineAccountProperties {
  const missing = ['UserPoolId', 'Username', 'GroupName', 'PasswordSecretArn'].filter((k) => typeof props?.[k] !== 'string' || (props[k] as string).length === 0);
  if (missing.length > 0) throw new Error(`machine account: missing resource properties ${missing.join(', ')}`);
  return props as unknown as MachineAccountProperties;
}

/** The physical id: a new pool or username is a new account (and CloudFormation deletes the old one). */
export function physicalResourceId(props: MachineAccountProperties): string {
  return `${props.UserPoolId}/${props.Username}`;
}

async function readPassword(secrets: SecretsManagerClient, secretArn: string): Promise<string> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let password: unknown;
  try {
    password = (JSON.parse(SecretString ?? '') as { password?: unknown }).password;
  } catch {
    throw new Error(`machine account: secret ${secretArn} is not JSON with a "password" key`);
  }
  if (typeof password !== 'string' || password.length === 0) {
    throw new Error(`machine account: secret ${secretArn} has no "password" key`);
  }
  return password;
}

/**
 * Creates the account if absent, sets its password (permanent, so no
 * NEW_PASSWORD_REQUIRED challenge) and puts it in the group. Every step is
 * idempotent, so Create and Update share it and a retried deploy converges.
 * Returns the account's sub.
 */
export async function ensureMachineAccount(clients: MachineAccountClients, props: MachineAccountProperties): Promise<string> {
  const { cognito } = clients;
  const password = await readPassword(clients.secrets, props.PasswordSecretArn);
  try {
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: props.UserPoolId,
        Username: props.Username,
        // No invitation e-mail: nobody reads this mailbox, and the password is set below.
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: props.Username },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof UsernameExistsException)) throw err;
  }
  await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: props.UserPoolId, Username: props.Username, Password: password, Permanent: true }));
  await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: props.UserPoolId, Username: props.Username, GroupName: props.GroupName }));
  const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: props.UserPoolId, Username: props.Username }));
  const sub = user.UserAttributes?.find((a) => a.Name === 'sub')?.Value;
  if (!sub) throw new Error(`machine account: Cognito returned no sub for ${props.Username}`);
  return sub;
}

/** Deletes the account; an account (or a whole pool) that is already gone is fine. */
export async function deleteMachineAccount(cognito: CognitoIdentityProviderClient, props: Pick<MachineAccountProperties, 'UserPoolId' | 'Username'>): Promise<void> {
  try {
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: props.UserPoolId, Username: props.Username }));
  } catch (err) {
    if (!(err instanceof UserNotFoundException) && !(err instanceof ResourceNotFoundException)) throw err;
  }
}
