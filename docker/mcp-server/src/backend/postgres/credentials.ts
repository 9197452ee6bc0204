import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LoginCredentials } from '../../../../../chat-clients/postgres-login';

/**
 * The database role's credentials, read from its Secrets Manager secret while the server runs rather
 * than injected into the task's environment at start: Secrets Manager rotates the secret, and a value
 * in the environment would stay the old one until the task is replaced. Read once at start; read
 * again only when PostgreSQL refuses the login (postgres-login.ts), so a busy server costs Secrets
 * Manager nothing.
 */
export class SecretCredentials {
  private reading: Promise<LoginCredentials> | undefined;

  constructor(
    private readonly secretId: string,
    private readonly client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
  ) {}

  /** The secret's current username and password; concurrent callers share one read. */
  read(): Promise<LoginCredentials> {
    this.reading ??= this.fetch().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async fetch(): Promise<LoginCredentials> {
    // 5 s: a read happens at start and after a refused login, while a tool call waits for it; the pool gives up connecting after 5 s too.
    const answer = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }), { abortSignal: AbortSignal.timeout(5_000) });
    const value = parseJson(answer.SecretString, this.secretId);
    if (typeof value?.username !== 'string' || !value.username || typeof value.password !== 'string' || !value.password) {
      throw new Error(`the database secret ${this.secretId} has no username/password`);
    }
    return { user: value.username, password: value.password };
  }
}

function parseJson(text: string | undefined, secretId: string): { username?: unknown; password?: unknown } | null {
  try {
    return JSON.parse(text ?? '') as { username?: unknown; password?: unknown } | null;
  } catch {
    throw new Error(`the database secret ${secretId} does not hold JSON`);
  }
}
