/** Header names that two parts of the chat must spell the same way. */

/**
 * The header Hasura's event trigger sends the link-preview webhook's shared secret in. The Hasura
 * metadata sets it with `value_from_env`, so the secret never sits in a file.
 */
export const WEBHOOK_SECRET_HEADER = 'x-phenom-webhook-secret';
