import { phenomCredentialHeaders } from '../../../lambda/link-preview/phenom-credentials';
import { previewUrlFor, readSettings } from '../../../lambda/link-preview/settings';
import { secretMatches } from '../../../lambda/link-preview/webhook-auth';

describe('phenomCredentialHeaders', () => {
  it('sends an admin secret, with the role when one is given', () => {
    expect(phenomCredentialHeaders({ adminSecret: 's3cret' })).toEqual({ 'x-hasura-admin-secret': 's3cret' });
    expect(phenomCredentialHeaders({ adminSecret: 's3cret', role: 'link_preview' })).toEqual({ 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'link_preview' });
  });

  it('sends a bearer token', () => {
    expect(phenomCredentialHeaders({ bearerToken: 'eyJ.x.y' })).toEqual({ authorization: 'Bearer eyJ.x.y' });
  });

  it.each([
    [{}, /exactly one of "adminSecret" or "bearerToken"/],
    [{ adminSecret: 'a', bearerToken: 'b' }, /exactly one of/],
    [{ bearerToken: 'b', role: 'r' }, /"role" .* only applies with "adminSecret"/],
    [{ adminSecret: '' }, /JSON object with string values/],
    ['just-a-string', /JSON object/],
  ])('rejects %j with a message saying what to fix', (secret, message) => {
    expect(() => phenomCredentialHeaders(secret)).toThrow(message);
  });
});

describe('secretMatches', () => {
  it('accepts only the exact secret', () => {
    expect(secretMatches('abc123', 'abc123')).toBe(true);
    expect(secretMatches('abc124', 'abc123')).toBe(false);
    expect(secretMatches('abc1234', 'abc123')).toBe(false);
    expect(secretMatches('', 'abc123')).toBe(false);
    expect(secretMatches(undefined, 'abc123')).toBe(false);
  });

  it('refuses to compare against an empty expected secret', () => {
    expect(() => secretMatches('', '')).toThrow(/expected webhook secret is empty/);
  });
});

describe('readSettings', () => {
  const valid = {
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:w-AbCdEf',
    PHENOM_GRAPHQL_URL: 'https://api.thephenom.app/v1/graphql',
    PHENOM_TIMEOUT_MS: '5000',
    PREVIEW_URL_TEMPLATE: 'https://thephenom.app/p/{phenomId}',
    CACHE_TTL_HOURS: '24',
  };

  it('reads the environment the construct sets', () => {
    expect(readSettings(valid)).toEqual({
      webhookSecretArn: valid.WEBHOOK_SECRET_ARN,
      phenomGraphqlUrl: valid.PHENOM_GRAPHQL_URL,
      phenomCredentialsSecretArn: undefined,
      phenomTimeoutMs: 5000,
      previewUrlTemplate: valid.PREVIEW_URL_TEMPLATE,
      cacheTtlHours: 24,
    });
  });

  it('names every bad variable', () => {
    expect(() => readSettings({ ...valid, WEBHOOK_SECRET_ARN: undefined, CACHE_TTL_HOURS: 'a day', PREVIEW_URL_TEMPLATE: 'https://thephenom.app/p/' })).toThrow(
      /WEBHOOK_SECRET_ARN: .*; PREVIEW_URL_TEMPLATE: .*; CACHE_TTL_HOURS: /,
    );
  });
});

describe('previewUrlFor', () => {
  it('fills in the URL-encoded id', () => {
    expect(previewUrlFor('https://thephenom.app/p/{phenomId}?ref=chat')('a/b c')).toBe('https://thephenom.app/p/a%2Fb%20c?ref=chat');
  });
});
