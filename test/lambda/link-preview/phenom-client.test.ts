import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createPhenomClient, UpstreamError } from '../../../lambda/link-preview/phenom-client';
import { asyncListener, readBody } from '../../support/http-body';
import { freeLoopbackPort } from '../../support/net';

/**
 * The Phenom GraphQL client against canned answers in Hasura's shapes (GraphQL over
 * HTTP: 200 with `data` or `errors`, `extensions.code` as Hasura sets it).
 */
let server: Server;
let url: string;
let answer: { status: number; body: string };
let received: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer(
    asyncListener(async (req, res) => {
      received.push({ headers: req.headers, body: JSON.parse(await readBody(req)) as Record<string, unknown> });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
});

const reply = (status: number, body: unknown) => {
  answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
};
const client = () => createPhenomClient({ url, timeoutMs: 2_000, credentialHeaders: async () => ({ authorization: 'Bearer token-1' }) });

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

it('POSTs the documented query with the id variable and the credential headers', async () => {
  reply(200, { data: { content: { title: 'T', description: null, thumbnail_url: 'https://cdn/x.jpg', media_type: 'image' } } });

  await expect(client().fetchContent('abc-1')).resolves.toEqual({ title: 'T', description: null, thumbnailUrl: 'https://cdn/x.jpg', mediaType: 'image' });

  expect(received).toHaveLength(1);
  expect(received[0].headers).toMatchObject({ authorization: 'Bearer token-1', 'content-type': 'application/json' });
  expect(received[0].body.variables).toEqual({ id: 'abc-1' });
  expect(received[0].body.query).toMatch(/phenoms_by_pk\(id: \$id\)/);
});

it('returns null when the content does not exist', async () => {
  reply(200, { data: { content: null } });
  await expect(client().fetchContent('nope')).resolves.toBeNull();
});

it('treats a data-exception (an id the key type cannot hold) as not found', async () => {
  reply(200, { errors: [{ extensions: { path: '$.selectionSet.content.args.id', code: 'data-exception' }, message: 'invalid input syntax for type uuid: "nope"' }] });
  await expect(client().fetchContent('nope')).resolves.toBeNull();
});

it('reports other GraphQL errors as upstream failures (retried by Hasura)', async () => {
  reply(200, { errors: [{ extensions: { path: '$', code: 'access-denied' }, message: 'invalid x-hasura-admin-secret/x-hasura-access-key' }] });
  const err = await failure(client().fetchContent('abc'));
  expect(err.failure).toBe('graphql_error');
  expect(err.message).toBe('the Phenom API reported: invalid x-hasura-admin-secret/x-hasura-access-key');
});

it.each([
  ['a non-JSON body', 'upstream gateway error'],
  ['data of another shape', { data: { phenoms_by_pk: { title: 'T' } } }],
  ['a wrongly typed field', { data: { content: { title: 42, description: null, thumbnail_url: null, media_type: null } } }],
])('reports %s as an invalid response', async (_label, body) => {
  reply(200, body);
  const err = await failure(client().fetchContent('abc'));
  expect(err.failure).toBe('invalid_response');
});

it('reports a non-2xx status', async () => {
  reply(503, { error: 'unavailable' });
  const err = await failure(client().fetchContent('abc'));
  expect(err).toMatchObject({ failure: 'http_status', message: 'the Phenom API answered HTTP 503' });
});

it('reports a refused connection as a network failure', async () => {
  const closedPort = await freeLoopbackPort();
  const err = await failure(createPhenomClient({ url: `http://127.0.0.1:${closedPort}/v1/graphql`, timeoutMs: 2_000 }).fetchContent('abc'));
  expect(err.failure).toBe('network');
});
