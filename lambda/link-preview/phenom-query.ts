import * as z from 'zod/mini';

/**
 * The one place that knows the Phenom backend's GraphQL schema.
 *
 * The Phenom backend is a Hasura GraphQL Engine, so a row is read with the
 * generated `<table>_by_pk` root field. If its schema differs (table name, key
 * type, column names), change the document and `PhenomContentRow` below: the
 * client, the cache and the tests go through these two exports only.
 *
 * `$id` is declared `String!`. If the Phenom key is a uuid, change it to
 * `uuid!`; Hasura then answers a malformed id with a `data-exception` error,
 * which the client treats as "no such content" (see phenom-client.ts).
 */
export const PHENOM_CONTENT_QUERY = /* GraphQL */ `
  query PhenomLinkPreview($id: String!) {
    content: phenoms_by_pk(id: $id) {
      title
      description
      thumbnail_url
      media_type
    }
  }
`;

/** The variables PHENOM_CONTENT_QUERY takes. */
export const phenomContentVariables = (phenomId: string): Record<string, unknown> => ({ id: phenomId });

const optionalText = z.nullish(z.string());

/** What the query returns for one piece of content. */
const phenomContentRow = z.object({
  title: optionalText,
  description: optionalText,
  thumbnail_url: optionalText,
  media_type: optionalText,
});

/** The `data` member of a successful answer: `content` is null when the id is unknown. */
export const phenomContentData = z.object({ content: z.nullable(phenomContentRow) });

/** The preview fields the Phenom backend gives for one piece of content. */
export interface PhenomContent {
  readonly title: string | null;
  readonly description: string | null;
  readonly thumbnailUrl: string | null;
  readonly mediaType: string | null;
}

/** Maps the GraphQL row to the preview fields; `null` when the content does not exist. */
export function toPhenomContent(data: z.infer<typeof phenomContentData>): PhenomContent | null {
  if (!data.content) return null;
  const row = data.content;
  return {
    title: row.title ?? null,
    description: row.description ?? null,
    thumbnailUrl: row.thumbnail_url ?? null,
    mediaType: row.media_type ?? null,
  };
}
