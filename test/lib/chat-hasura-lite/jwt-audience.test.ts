import { AGENT, seedChat } from '../../../docker/mcp-server/test/support/chat-fixture';
import { CognitoStandIn, HASURA_CLAIMS } from '../../../docker/mcp-server/test/support/cognito-standin';
import { HasuraStandIn } from '../../../docker/mcp-server/test/support/hasura-standin';
import type { TestDatabase } from '../../support/postgres';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { stackTemplate } from '../../support/synth';

/*
 * The audience end to end: HASURA_GRAPHQL_JWT_SECRET exactly as the development template gives the
 * engine (tokens filled in with stand-in ids), read by the Hasura stand-in as graphql-engine v2.48.5's
 * verifyJwt reads it (audCheck: the token's aud must be one of the secret's audiences), against ID
 * tokens of each app client of the pool.
 */

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const POOL_ID = 'us-east-1_AudTest1';

const template = stackTemplate('development');
const resources = template.toJSON().Resources as Resources;
/** App client logical id → its ClientName, and the stand-in id it gets here. */
const clients = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient')
  .map(([logicalId, r]) => ({ logicalId, name: String(r.Properties.ClientName), id: `client${logicalId.toLowerCase()}`.slice(0, 26) }));
const clientId = (name: string) => clients.find((c) => c.name === `phenom-development-${name}`)!.id;

/** The engine container's JWT secret with each CloudFormation token replaced by its stand-in value. */
function renderedJwtSecret(): string {
  const task = Object.values(resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.Family === 'phenom-development-hasura')!;
  const container = (task.Properties.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: unknown }[] }[]).find((c) => c.Name === 'hasura')!;
  const value = container.Environment.find((e) => e.Name === 'HASURA_GRAPHQL_JWT_SECRET')!.Value as { 'Fn::Join': [string, unknown[]] };
  const [pool] = Object.keys(template.findResources('AWS::Cognito::UserPool'));
  const refs: Record<string, string> = { [pool!]: POOL_ID, 'AWS::URLSuffix': 'amazonaws.com', ...Object.fromEntries(clients.map((c) => [c.logicalId, c.id])) };
  return value['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === undefined || !(ref in refs)) throw new Error(`unexpected token in the JWT secret: ${JSON.stringify(part)}`);
      return refs[ref];
    })
    .join(value['Fn::Join'][0]);
}

describe("Hasura's JWT audience (HASURA_GRAPHQL_JWT_SECRET of the development template)", () => {
  let db: TestDatabase;
  let cognito: CognitoStandIn;
  let hasura: HasuraStandIn;
  const secret = renderedJwtSecret();
  const issuer = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;

  beforeAll(async () => {
    db = await createMigratedDatabase('jwt_audience');
    await seedChat(db.pool);
    cognito = new CognitoStandIn({
      clientId: clientId('chat-mobile'),
      clientSecret: 's',
      loginName: 'agent@chat.test',
      password: 'p',
      sub: AGENT,
      issuer,
      nowSeconds: () => Math.floor(Date.now() / 1000),
    });
    hasura = new HasuraStandIn({ pool: db.pool, cognito, jwtSecret: secret });
    await hasura.start();
  });
  afterAll(async () => {
    await hasura?.stop();
    await db?.drop();
  });

  /** POST one query with an ID token of `client` (as Cognito mints them: aud = the app client id). */
  const roomsAs = async (aud: string) => {
    const claims = JSON.stringify({ 'x-hasura-user-id': AGENT, 'x-hasura-default-role': 'user', 'x-hasura-allowed-roles': ['user'] });
    const token = cognito.sign({ iss: issuer, aud, sub: AGENT, token_use: 'id', exp: Math.floor(Date.now() / 1000) + 600, [HASURA_CLAIMS]: claims });
    const res = await fetch(hasura.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query { chat_rooms { id } }' }),
    });
    return { status: res.status, body: (await res.json()) as { data?: { chat_rooms: unknown[] }; errors?: unknown[] } };
  };

  it('names exactly the mobile and agent clients, the two seed flows that call Hasura', () => {
    expect(JSON.parse(secret)).toMatchObject({ issuer, audience: [clientId('chat-mobile'), clientId('chat-agent')] });
  });

  it.each(['chat-mobile', 'chat-agent'])('opens a session for an ID token of the %s client', async (name) => {
    const { status, body } = await roomsAs(clientId(name));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.chat_rooms.length).toBeGreaterThan(0);
  });

  it.each(['synapse-oidc', 'synapse-admin-alb', 'chat-mcp-interactive', 'chat-mcp-agent'])('refuses an ID token of the %s client of the same pool, as graphql-engine does', async (name) => {
    // The shape of graphql-engine's own test (server/tests-py test_jwt.py, "rubbish_audience"): HTTP 200 on /v1/graphql.
    expect(await roomsAs(clientId(name))).toEqual({ status: 200, body: { errors: [{ extensions: { path: '$', code: 'invalid-jwt' }, message: 'Could not verify JWT: JWTNotInAudience' }] } });
  });

  it('lists every app client of the pool in one of the two cases above', () => {
    expect(clients.map((c) => c.name.replace('phenom-development-', '')).sort()).toEqual(['chat-agent', 'chat-mcp-agent', 'chat-mcp-interactive', 'chat-mobile', 'synapse-admin-alb', 'synapse-oidc']);
  });
});
