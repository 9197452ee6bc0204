import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { asyncListener, readBody } from '../http-body';

/**
 * A stand-in for the Secrets Manager GetSecretValue, PutSecretValue and DescribeSecret APIs on 127.0.0.1, speaking
 * the AWS JSON 1.1 protocol the SDK uses (POST /, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, body `{"SecretId": ...}`). Point the SDK at it
 * with `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the SDK's service-specific endpoint
 * variable), plus any region and static credentials.
 *
 * The same server also answers as the AWS Parameters and Secrets Lambda Extension does on its
 * loopback port: `GET /secretsmanager/get?secretId=<id>` with the function's session token in
 * `X-Aws-Parameters-Secrets-Token`, answering the GetSecretValue JSON. Point a function at it with
 * `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (`extensionEnv`). Like the extension, it can cache what it
 * answered for SECRETS_MANAGER_TTL seconds (`extensionTtlSeconds`; 0, the default here, caches nothing),
 * while the JSON API always answers the current value.
 */
export interface SecretsManagerStandInOptions {
  /** The extension's SECRETS_MANAGER_TTL: how long a value it served is served again unchanged. */
  readonly extensionTtlSeconds?: number;
}

export interface SecretsManagerStandIn {
  readonly url: string;
  /** Sets (or replaces) a secret's SecretString, keyed by its ARN. */
  put(arn: string, secretString: string): void;
  /** SecretIds asked for so far, in order. */
  readonly requests: string[];
  /** SecretIds asked for through the extension's loopback API, in order. */
  readonly extensionRequests: string[];
  /** The environment a function with the extension attached finds (its port, and the session token it must send). */
  readonly extensionEnv: Record<string, string>;
  /** SecretIds written with PutSecretValue, in order. */
  readonly writes: string[];
  /** A secret's current SecretString. */
  get(arn: string): string | undefined;
  close(): Promise<void>;
}

export async function startSecretsManagerStandIn(options: SecretsManagerStandInOptions = {}): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, string>();
  const extensionCache = new Map<string, { value: string; at: number }>();
  const ttlMs = (options.extensionTtlSeconds ?? 0) * 1000;
  const requests: string[] = [];
  const writes: string[] = [];
  const extensionRequests: string[] = [];
  const sessionToken = `stand-in-session-token-${process.pid}`;
  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/secretsmanager/get') {
        // The extension refuses a caller without the execution environment's session token.
        if (req.headers['x-aws-parameters-secrets-token'] !== sessionToken) {
          res.writeHead(401, { 'content-type': 'text/plain' });
          return res.end('Unauthorized: missing or invalid X-Aws-Parameters-Secrets-Token');
        }
        const secretId = url.searchParams.get('secretId') ?? '';
        extensionRequests.push(secretId);
        const cached = extensionCache.get(secretId);
        const hit = cached !== undefined && Date.now() - cached.at < ttlMs;
        const value = hit ? cached.value : secrets.get(secretId);
        if (!hit && value !== undefined && ttlMs > 0) extensionCache.set(secretId, { value, at: Date.now() });
        if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return reply(200, { ARN: secretId, Name: secretId.split(':').pop(), VersionId: '00000000-0000-4000-8000-000000000001', SecretString: value, VersionStages: ['AWSCURRENT'] });
      }
      const body = await readBody(req);
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || !['secretsmanager.GetSecretValue', 'secretsmanager.PutSecretValue', 'secretsmanager.DescribeSecret'].includes(String(target))) {
        return reply(400, { __type: 'UnknownOperationException', message: `unsupported ${req.method} ${String(req.headers['x-amz-target'])}` }, 'UnknownOperationException');
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        return reply(400, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
      }
      const { SecretId, SecretString } = JSON.parse(body) as { SecretId: string; SecretString?: string };
      if (target === 'secretsmanager.PutSecretValue') {
        if (!secrets.has(SecretId)) {
          return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
        }
        if (typeof SecretString !== 'string') {
          return reply(400, { __type: 'InvalidParameterException', message: 'You must provide either SecretString or SecretBinary.' }, 'InvalidParameterException');
        }
        secrets.set(SecretId, SecretString);
        writes.push(SecretId);
        return reply(200, { ARN: SecretId, Name: SecretId.split(':').pop(), VersionId: `v-${writes.length}`, VersionStages: ['AWSCURRENT'] });
      }
      if (target === 'secretsmanager.DescribeSecret') {
        // The secret's metadata, never its value.
        if (!secrets.has(SecretId)) {
          return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
        }
        return reply(200, { ARN: SecretId, Name: SecretId.split(':').pop(), LastChangedDate: Date.now() / 1000, VersionIdsToStages: { '00000000-0000-4000-8000-000000000001': ['AWSCURRENT'] } });
      }
      requests.push(SecretId);
      const value = secrets.get(SecretId);
      if (value === undefined) {
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
      }
      reply(200, {
        ARN: SecretId,
        Name: SecretId.split(':').pop(),
        VersionId: '00000000-0000-4000-8000-000000000001',
        SecretString: value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    put: (arn, secretString) => void secrets.set(arn, secretString),
    get: (arn) => secrets.get(arn),
    requests,
    extensionRequests,
    extensionEnv: { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port), AWS_SESSION_TOKEN: sessionToken },
    writes,
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
