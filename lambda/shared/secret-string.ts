import { HttpError, jsonOrUndefined } from '../../chat-clients/http';
import { loopbackGet } from './loopback-get';

/**
 * A Secrets Manager secret's string value, from wherever this function's deployment says.
 *
 * - With the AWS Parameters and Secrets Lambda Extension attached (ChatFunction's
 *   `secretsFromExtension`, whose layer sets PARAMETERS_SECRETS_EXTENSION_HTTP_PORT), the value
 *   comes from the extension over loopback and the function never loads the AWS SDK. The SDK
 *   client is a third of link-preview's init CPU (bench:lambdas: 149 ms with it, 98 ms without,
 *   on the same loaded machine), and a cold start on a user's path is paid by that user.
 *   The extension caches each secret for SECRETS_MANAGER_TTL (set by ChatFunction), so a rotated
 *   value is picked up without a redeploy.
 * - Otherwise Powertools' getSecret reads it, with the SDK loaded only then.
 * - `forceFetch` always goes to Secrets Manager through the SDK, extension or not: the extension documents
 *   no way to skip its cache, and a caller that forces a fetch has just been refused with the cached value
 *   (a database login after a rotation: lambda/shared/database.ts), so that rare call may pay for the SDK.
 */

export interface SecretReadOptions {
  /** How long an in-process cached value may be reused (Powertools path; the extension has its own TTL). */
  readonly maxAgeSeconds?: number;
  /** Skip every cache: read through the SDK even when the extension is attached (it cannot be told to skip its cache). */
  readonly forceFetch?: boolean;
}

export interface SecretSourceEnv {
  /** Set by the extension's layer configuration; its presence selects the extension. */
  readonly PARAMETERS_SECRETS_EXTENSION_HTTP_PORT?: string;
  /** The execution environment's session token, which the extension requires from its caller. */
  readonly AWS_SESSION_TOKEN?: string;
}

/** Above the extension's own Secrets Manager timeout (SECRETS_MANAGER_TIMEOUT_MILLIS, 0 = the SDK's), so its answer is the one seen. */
const EXTENSION_TIMEOUT_MS = 3_000;

export async function readSecretString(secretId: string, options: SecretReadOptions = {}, env: SecretSourceEnv = process.env): Promise<string> {
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
  const value = port && !options.forceFetch ? await fromExtension(secretId, port, env) : await fromPowertools(secretId, options);
  if (typeof value !== 'string' || value === '') throw new Error(`secret ${secretId} has no string value`);
  return value;
}

/** The secret's string value parsed as JSON (RDS credentials, the Phenom credentials). */
export async function readSecretJson<T>(secretId: string, options: SecretReadOptions = {}, env: SecretSourceEnv = process.env): Promise<T> {
  const text = await readSecretString(secretId, options, env);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`secret ${secretId} does not hold JSON`);
  }
}

async function fromExtension(secretId: string, port: string, env: SecretSourceEnv): Promise<unknown> {
  if (!/^\d{1,5}$/.test(port)) throw new Error(`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a port number, got ${JSON.stringify(port)}`);
  if (!env.AWS_SESSION_TOKEN) throw new Error('AWS_SESSION_TOKEN is not set, so the Parameters and Secrets extension cannot be called');
  let answer;
  try {
    answer = await loopbackGet(
      `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`,
      { 'X-Aws-Parameters-Secrets-Token': env.AWS_SESSION_TOKEN },
      EXTENSION_TIMEOUT_MS,
    );
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    throw new HttpError(err.failure, `the Parameters and Secrets extension did not answer for ${secretId}: ${err.message}`, err.details);
  }
  const json = jsonOrUndefined(answer.text);
  if (answer.status < 200 || answer.status > 299)
    throw new HttpError('status', `the Parameters and Secrets extension answered ${answer.status} for ${secretId}: ${answer.text.slice(0, 200)}`, { status: answer.status });
  if (typeof json !== 'object' || json === null) {
    throw new HttpError('invalid-response', `the Parameters and Secrets extension answered ${secretId} with a body that is not GetSecretValue JSON`, { status: answer.status });
  }
  return (json as { SecretString?: unknown }).SecretString;
}

async function fromPowertools(secretId: string, options: SecretReadOptions): Promise<unknown> {
  // Loaded here, not at module scope: a function on the extension path never pays for the SDK.
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  return getSecret<string>(secretId, { maxAge: options.maxAgeSeconds, forceFetch: options.forceFetch });
}
