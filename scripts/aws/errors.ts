/**
 * Turns an AWS SDK v3 error into a sentence that says what to do. The SDK names a service error
 * by its error code (`err.name`, e.g. `ResourceNotFoundException`, `InvalidVpcID.NotFound`); a
 * credential-chain failure is `CredentialsProviderError`; a network failure carries a Node
 * `code` (ECONNREFUSED …) or is a `TimeoutError`.
 */

/** The error code of an SDK error (`name`), or undefined for something that is not one. */
export function awsErrorCode(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

const CREDENTIALS_REJECTED = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'AuthFailure',
  'IncompleteSignature',
  'InvalidAccessKeyId',
]);
const CREDENTIALS_EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'NotAuthorizedException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

export const NO_CREDENTIALS_FIX = 'no AWS credentials found: sign in (`aws sso login --profile phenom`, then `export AWS_PROFILE=phenom`) or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';

/** What to do about `err`, raised while trying to `doing` (e.g. "describe certificate arn:…"). */
export function awsErrorFix(err: unknown, doing: string): string {
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const name = awsErrorCode(err) ?? 'Error';
  const message = (e?.message ?? String(err)).split('\n')[0];
  if (name === 'CredentialsProviderError') return NO_CREDENTIALS_FIX;
  if (CREDENTIALS_EXPIRED.has(name)) return `the AWS credentials have expired (${name}): sign in again (\`aws sso login\`) and re-run`;
  if (CREDENTIALS_REJECTED.has(name)) return `AWS rejected the credentials (${name}: ${message}): check AWS_PROFILE or the access keys`;
  if (ACCESS_DENIED.has(name)) return `the credentials may not ${doing} (${name}: ${message}): use the role you deploy with, or grant it that permission`;
  const networkCode = networkErrorCode(err);
  if (networkCode || name === 'TimeoutError') {
    return `could not reach AWS to ${doing} (${networkCode ?? name}: ${message}): check the network, proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL*`;
  }
  return `could not ${doing} (${name}: ${message})`;
}

/**
 * The Node network error code of `err` or of an error it wraps: the SDK passes some socket errors up
 * as they are and wraps others ("AWS SDK error wrapper for Error: connect ECONNREFUSED …"), with the
 * original as `cause` or only in the message.
 */
function networkErrorCode(err: unknown): string | undefined {
  for (let e = err as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code && NETWORK_CODES.has(e.code)) return e.code;
    if (NETWORK_CODES.has(e.name)) return e.name;
    const inMessage = /\b(E[A-Z_]+)\b/.exec(e.message ?? '')?.[1];
    if (inMessage && NETWORK_CODES.has(inMessage)) return inMessage;
  }
  return undefined;
}
