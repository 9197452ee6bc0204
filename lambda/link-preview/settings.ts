import * as z from 'zod/mini';

export const PHENOM_ID_PLACEHOLDER = '{phenomId}';

const positiveInt = (max: number) => z.pipe(z.string(), z.transform(Number)).check(z.int(), z.minimum(1), z.maximum(max));

const settingsSchema = z.object({
  WEBHOOK_SECRET_ARN: z.string().check(z.minLength(1)),
  PHENOM_GRAPHQL_URL: z.url({ protocol: /^https?$/ }),
  PHENOM_CREDENTIALS_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
  PHENOM_TIMEOUT_MS: positiveInt(60_000),
  PREVIEW_URL_TEMPLATE: z.string().check(z.includes(PHENOM_ID_PLACEHOLDER), z.startsWith('http')),
  CACHE_TTL_HOURS: positiveInt(24 * 365),
});

export interface LinkPreviewSettings {
  readonly webhookSecretArn: string;
  readonly phenomGraphqlUrl: string;
  readonly phenomCredentialsSecretArn?: string;
  readonly phenomTimeoutMs: number;
  readonly previewUrlTemplate: string;
  readonly cacheTtlHours: number;
}

/** Reads and checks the function's environment; throws naming every bad variable (fails the cold start loudly). */
export function readSettings(env: Record<string, string | undefined>): LinkPreviewSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`link-preview environment is invalid: ${problems}`);
  }
  const s = parsed.data;
  return {
    webhookSecretArn: s.WEBHOOK_SECRET_ARN,
    phenomGraphqlUrl: s.PHENOM_GRAPHQL_URL,
    phenomCredentialsSecretArn: s.PHENOM_CREDENTIALS_SECRET_ARN,
    phenomTimeoutMs: s.PHENOM_TIMEOUT_MS,
    previewUrlTemplate: s.PREVIEW_URL_TEMPLATE,
    cacheTtlHours: s.CACHE_TTL_HOURS,
  };
}

/** The public URL of a piece of content: the template with the (URL-encoded) id filled in. */
export const previewUrlFor =
  (template: string) =>
  (phenomId: string): string =>
    template.split(PHENOM_ID_PLACEHOLDER).join(encodeURIComponent(phenomId));
