import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { buildSchema, graphql } from 'graphql';
import { asyncListener, readBody } from '../../support/http-body';

/**
 * The Phenom backend as the link-preview Lambda sees it: a Hasura GraphQL Engine
 * on 127.0.0.1. Queries are really executed against a schema that follows
 * Hasura's generated naming for a `phenoms` table (`phenoms_by_pk(id:)`), so a
 * query the real API would reject fails here too. Responses follow GraphQL over
 * HTTP: 200 with `{data}` or `{errors}`.
 */
const SCHEMA = buildSchema(`
  type phenoms {
    id: String!
    title: String
    description: String
    thumbnail_url: String
    media_type: String
  }
  type query_root {
    phenoms_by_pk(id: String!): phenoms
  }
  schema { query: query_root }
`);

export interface PhenomRow {
  readonly title: string | null;
  readonly description: string | null;
  readonly thumbnail_url: string | null;
  readonly media_type: string | null;
}

/** How the stand-in answers the next requests. */
export type PhenomBehaviour = 'normal' | 'http-500' | 'hang';

export interface PhenomGraphqlStandIn {
  readonly url: string;
  readonly content: Map<string, PhenomRow>;
  behaviour: PhenomBehaviour;
  /** Headers and variables of every GraphQL request received. */
  readonly requests: { headers: IncomingHttpHeaders; variables: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startPhenomGraphqlStandIn(options: { adminSecret?: string } = {}): Promise<PhenomGraphqlStandIn> {
  const content = new Map<string, PhenomRow>();
  const requests: PhenomGraphqlStandIn['requests'] = [];
  const hanging = new Set<ServerResponse>();
  let behaviour: PhenomBehaviour = 'normal';

  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      const raw = await readBody(req);
      if (req.method !== 'POST' || req.url !== '/v1/graphql') return send(404, { error: 'resource does not exist' });
      const { query, variables } = JSON.parse(raw) as { query: string; variables?: Record<string, unknown> };
      requests.push({ headers: req.headers, variables: variables ?? {} });

      if (behaviour === 'hang') return void hanging.add(res);
      if (behaviour === 'http-500') return send(500, { error: 'internal server error' });
      if (options.adminSecret !== undefined && req.headers['x-hasura-admin-secret'] !== options.adminSecret) {
        return send(200, { errors: [{ extensions: { path: '$', code: 'access-denied' }, message: 'invalid x-hasura-admin-secret/x-hasura-access-key' }] });
      }
      const rootValue = { phenoms_by_pk: ({ id }: { id: string }) => (content.has(id) ? { id, ...content.get(id) } : null) };
      const result = await graphql({ schema: SCHEMA, source: query, variableValues: variables, rootValue });
      if (result.errors) return send(200, { errors: result.errors.map((e) => ({ message: e.message, extensions: { code: 'validation-failed' } })) });
      send(200, { data: result.data });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1/graphql`,
    content,
    requests,
    get behaviour() {
      return behaviour;
    },
    set behaviour(next) {
      behaviour = next;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
