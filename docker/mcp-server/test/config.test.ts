import { loadConfig } from '../src/config';
import { RateLimiter } from '../src/http/rate-limit';

const base = { COGNITO_USER_POOL_ID: 'eu-west-1_Abc123', ALLOWED_CLIENT_IDS: 'a, b' };

describe('loadConfig', () => {
  it('derives the Cognito issuer and applies the defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      port: 3001,
      backendType: 'hasura',
      region: 'eu-west-1',
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123',
      allowedClientIds: ['a', 'b'],
      readScope: 'chat/read',
      moderateScope: 'chat/moderate',
      moderatorGroups: ['chat-support', 'chat-admin'],
      allowedOrigins: [],
    });
  });

  it('names every missing or bad key in one error', () => {
    expect(() => loadConfig({ BACKEND_TYPE: 'mysql', PORT: 'abc' })).toThrow(/BACKEND_TYPE[\s\S]*COGNITO_USER_POOL_ID|COGNITO_USER_POOL_ID[\s\S]*BACKEND_TYPE/);
    expect(() => loadConfig({ COGNITO_USER_POOL_ID: 'x' })).toThrow(/ALLOWED_CLIENT_IDS/);
    expect(() => loadConfig({ ...base, COGNITO_USER_POOL_ID: 'not-a-pool' })).toThrow(/COGNITO_USER_POOL_ID: "not-a-pool" is not a user pool id/);
  });

  it('takes the edge provider and the ALB peer ranges, refusing a provider or range it does not know', () => {
    expect(loadConfig(base)).toMatchObject({ edgeProvider: 'none', albPeerCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] });
    expect(loadConfig({ ...base, EDGE_PROVIDER: 'cloudflare', ALB_PEER_CIDRS: '127.0.0.1/32' })).toMatchObject({ edgeProvider: 'cloudflare', albPeerCidrs: ['127.0.0.1/32'] });
    expect(() => loadConfig({ ...base, EDGE_PROVIDER: 'akamai' })).toThrow(/EDGE_PROVIDER/);
    expect(() => loadConfig({ ...base, ALB_PEER_CIDRS: '10.0.0.0' })).toThrow(/ALB_PEER_CIDRS must list CIDR blocks such as 10.0.0.0\/8/);
    expect(() => loadConfig({ ...base, ALB_PEER_CIDRS: ' , ' })).toThrow(/ALB_PEER_CIDRS must list CIDR blocks/);
  });

  it('refuses a JWKS override that is not on loopback', () => {
    expect(() => loadConfig({ ...base, COGNITO_JWKS_URL: 'https://evil.example/jwks.json' })).toThrow(/COGNITO_JWKS_URL must be a loopback URL/);
    expect(loadConfig({ ...base, COGNITO_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json' }).jwksUrl).toBe('http://127.0.0.1:9/.well-known/jwks.json');
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then one request per refill interval, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(60, 3, () => now); // one token per second
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
  });
});

describe('browser and authorization-server settings', () => {
  it('answers only for the resource host in deployment, and for every localhost name on loopback', () => {
    expect(loadConfig({ ...base, MCP_RESOURCE_URL: 'https://chat.thephenom.app/mcp' })).toMatchObject({ allowedHosts: ['chat.thephenom.app'], loopback: false });
    expect(loadConfig({ ...base, MCP_RESOURCE_URL: 'http://127.0.0.1:3001/mcp' })).toMatchObject({ allowedHosts: ['localhost', '127.0.0.1', '[::1]'], loopback: true });
  });

  it('names our origin as authorization server when COGNITO_DOMAIN is set, else the pool, and adds interactive clients to the allow-list', () => {
    const deployed = { ...base, MCP_RESOURCE_URL: 'https://chat.thephenom.app/mcp' };
    expect(loadConfig(deployed).authorizationServer).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123');
    const withDomain = loadConfig({ ...deployed, COGNITO_DOMAIN: 'x.auth.eu-west-1.amazoncognito.com', INTERACTIVE_CLIENT_IDS: 'people' });
    expect(withDomain.authorizationServer).toBe('https://chat.thephenom.app');
    expect(withDomain.allowedClientIds).toEqual(['a', 'b', 'people']);
    expect(() => loadConfig({ ...deployed, COGNITO_DOMAIN: 'https://x.example/' })).toThrow(/COGNITO_DOMAIN must be a bare host name/);
  });

  it('refuses AUTH_MODE=none unless both the listen address and the resource are loopback', () => {
    expect(() => loadConfig({ ...base, AUTH_MODE: 'none', MCP_RESOURCE_URL: 'https://chat.thephenom.app/mcp', HOST: '127.0.0.1' })).toThrow(/AUTH_MODE: "none" is for local mode only/);
    expect(() => loadConfig({ ...base, AUTH_MODE: 'none', MCP_RESOURCE_URL: 'http://127.0.0.1:3001/mcp' })).toThrow(/local mode only/); // HOST defaults to 0.0.0.0
    expect(loadConfig({ ...base, AUTH_MODE: 'none', MCP_RESOURCE_URL: 'http://127.0.0.1:3001/mcp', HOST: '127.0.0.1' }).authMode).toBe('none');
  });
});
