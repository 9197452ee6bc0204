import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HASURA_START_SCRIPT, URLENCODE_FUNCTION } from '../../../lib/chat-hasura-lite/engine-start-script';

/**
 * The container's `sh -c` script, run by this machine's /bin/sh (dash, the same POSIX
 * shell family as the image's Ubuntu /bin/sh) with the same coreutils.
 */
const PASSWORDS = [
  'simple',
  'p@ss:w/o%rd#?',
  'quote\'and"double',
  'spaces and\ttabs',
  'ünïcødé-€-密码',
  '&=+$,;[]!*()~._-',
  '%41%', // must not be decoded twice
  '',
];

describe('Hasura entrypoint script', () => {
  it.each(PASSWORDS)('percent-encodes %j so that URL decoding gives it back', (password) => {
    const encoded = execFileSync('/bin/sh', ['-c', `${URLENCODE_FUNCTION}\nurlencode "$PW"`], { env: { PW: password, PATH: process.env.PATH } }).toString();
    expect(encoded).toMatch(/^(%[0-9a-f]{2})*$/);
    expect(decodeURIComponent(encoded)).toBe(password);
  });

  it('builds HASURA_GRAPHQL_DATABASE_URL from the injected credentials, drops DB_PASSWORD, and execs the engine', () => {
    // A fake `graphql-engine` on PATH prints what the real one would get.
    const bin = mkdtempSync(join(tmpdir(), 'hge-'));
    try {
      writeFileSync(join(bin, 'graphql-engine'), '#!/bin/sh\necho "args=$*"\necho "url=$HASURA_GRAPHQL_DATABASE_URL"\necho "pw=${DB_PASSWORD-unset}"\n');
      chmodSync(join(bin, 'graphql-engine'), 0o755);
      const out = execFileSync('/bin/sh', ['-c', HASURA_START_SCRIPT], {
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          DB_USER: 'chat_admin',
          DB_PASSWORD: 'a:b@c/d?e#f%g',
          DB_HOST: 'db.example.internal',
          DB_PORT: '5432',
          DB_NAME: 'phenom',
        },
      }).toString();
      const lines = Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(lines.args).toBe('serve');
      expect(lines.pw).toBe('unset');
      const url = new URL(lines.url);
      expect(url.protocol).toBe('postgres:');
      expect(decodeURIComponent(url.username)).toBe('chat_admin');
      expect(decodeURIComponent(url.password)).toBe('a:b@c/d?e#f%g');
      expect(url.hostname).toBe('db.example.internal');
      expect(url.port).toBe('5432');
      expect(url.pathname).toBe('/phenom');
      expect(url.searchParams.get('sslmode')).toBe('require');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('refuses to start when a credential is missing (set -u)', () => {
    expect(() => execFileSync('/bin/sh', ['-c', HASURA_START_SCRIPT], { env: { PATH: process.env.PATH, DB_USER: 'u' }, stdio: 'pipe' })).toThrow(/DB_PASSWORD/);
  });
});
