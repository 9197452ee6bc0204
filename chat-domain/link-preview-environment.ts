/**
 * The environment the ChatLinkPreview construct gives the function (DB_* come
 * from ChatFunction). The construct builds its `environment` as this type and the
 * Lambda's settings parse it, so the two cannot drift apart.
 */
export interface LinkPreviewEnvironment {
  /** The webhook shared secret (a plain string secret). */
  readonly WEBHOOK_SECRET_ARN: string;
  readonly PHENOM_GRAPHQL_URL: string;
  /** A JSON secret, see phenom-credentials.ts; absent: the Phenom API is called unauthenticated. */
  readonly PHENOM_CREDENTIALS_SECRET_ARN?: string;
  readonly PHENOM_TIMEOUT_MS: string;
  /** e.g. `https://thephenom.app/p/{phenomId}`. */
  readonly PREVIEW_URL_TEMPLATE: string;
  readonly CACHE_TTL_HOURS: string;
}
