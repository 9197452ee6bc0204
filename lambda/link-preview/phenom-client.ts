import * as z from 'zod/mini';
import { fetchWithTimeout, HttpAnswer, HttpError } from '../../chat-clients/http';
import { PHENOM_CONTENT_QUERY, PhenomContent, phenomContentData, phenomContentVariables, toPhenomContent } from './phenom-query';

/** Why the Phenom API could not answer; every kind is worth a retry by Hasura. */
export type UpstreamFailure = 'timeout' | 'network' | 'http_status' | 'graphql_error' | 'invalid_response';

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface PhenomClientOptions {
  /** The Phenom Hasura GraphQL endpoint, e.g. https://api.thephenom.app/v1/graphql. */
  readonly url: string;
  /** Abort the request (connect, headers and body) after this long. */
  readonly timeoutMs: number;
  /** Headers that authenticate the call; read per call so a rotated secret is picked up. */
  readonly credentialHeaders?: () => Promise<Record<string, string>>;
}

export interface PhenomClient {
  /** The content's preview fields, or null when the Phenom backend has no such content. */
  fetchContent(phenomId: string): Promise<PhenomContent | null>;
}

/** GraphQL-over-HTTP response envelope (graphql.org/learn/serving-over-http). */
const graphqlEnvelope = z.object({
  data: z.nullish(z.unknown()),
  errors: z.optional(z.array(z.object({ message: z.string(), extensions: z.optional(z.object({ code: z.optional(z.string()) })) }))),
});

/**
 * Hasura reports a value that cannot be cast to the key's type (e.g. "abc" for
 * a uuid) as `data-exception`: such an id cannot exist, so it is "not found",
 * not a failure to retry.
 */
const NOT_FOUND_CODES = new Set(['data-exception']);

const short = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** A client for the Phenom backend's GraphQL API (one POST per lookup). */
export function createPhenomClient(options: PhenomClientOptions): PhenomClient {
  return {
    async fetchContent(phenomId) {
      const headers = { 'content-type': 'application/json', accept: 'application/json', ...(await options.credentialHeaders?.()) };
      let response: HttpAnswer;
      try {
        response = await fetchWithTimeout(options.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ query: PHENOM_CONTENT_QUERY, variables: phenomContentVariables(phenomId) }),
          timeoutMs: options.timeoutMs,
          what: 'the Phenom API',
          unanswered: (why) => (why.failure === 'timeout' ? `the Phenom API did not answer within ${why.timeoutMs} ms` : `the Phenom API could not be reached: ${(why.cause as Error).message}`),
        });
      } catch (err) {
        if (err instanceof HttpError) throw new UpstreamError(err.failure === 'timeout' ? 'timeout' : 'network', err.message);
        throw err;
      }
      const body = response.json;

      if (!response.ok) throw new UpstreamError('http_status', `the Phenom API answered HTTP ${response.status}`);
      const envelope = graphqlEnvelope.safeParse(body);
      if (!envelope.success) throw new UpstreamError('invalid_response', 'the Phenom API answered with something that is not a GraphQL response');

      const errors = envelope.data.errors ?? [];
      if (errors.length > 0) {
        if (errors.every((e) => NOT_FOUND_CODES.has(e.extensions?.code ?? ''))) return null;
        throw new UpstreamError('graphql_error', `the Phenom API reported: ${short(errors.map((e) => e.message).join('; '))}`);
      }
      const data = phenomContentData.safeParse(envelope.data.data);
      if (!data.success) throw new UpstreamError('invalid_response', 'the Phenom API answer does not match the link-preview query (see phenom-query.ts)');
      return toPhenomContent(data.data);
    },
  };
}
