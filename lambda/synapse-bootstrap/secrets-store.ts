import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BotCredentials, CredentialStore } from './bootstrap';

/**
 * Keeps the admin bot's access token in a Secrets Manager secret as JSON
 * `{userId, accessToken, deviceId, homeserverUrl}`. The secret is created by the
 * stack with a random placeholder value, which `load` treats as "no token yet".
 */
export function secretsManagerCredentialStore(client: SecretsManagerClient, secretId: string, homeserverUrl: string): CredentialStore {
  return {
    async load() {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      try {
        const parsed = JSON.parse(SecretString ?? '') as Partial<BotCredentials>;
        if (typeof parsed.userId === 'string' && typeof parsed.accessToken === 'string') {
          return { userId: parsed.userId, accessToken: parsed.accessToken, deviceId: parsed.deviceId };
        }
      } catch {
        // the stack's initial placeholder value
      }
      return undefined;
    },
    async save(credentials) {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ ...credentials, homeserverUrl }) }));
    },
  };
}
