import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IgnoreStrategy } from 'aws-cdk-lib';

const REPO = resolve(__dirname, '../../..');
const dockerfile = readFileSync(resolve(__dirname, '../Dockerfile'), 'utf8');

/**
 * The files of the build context (the repository root less /.dockerignore), matched with the
 * dockerignore strategy CDK itself stages and hashes the image asset with.
 */
function buildContext(): string[] {
  const ignore = IgnoreStrategy.docker(
    REPO,
    readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#')),
  );
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return ignore.completelyIgnores(path) ? [] : walk(path);
      return ignore.ignores(path) ? [] : [path.slice(REPO.length + 1)];
    });
  return walk(REPO);
}
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('the MCP server image', () => {
  it('is multi-stage on an exactly pinned Node 22 base', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms).toHaveLength(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:22\.\d+\.\d+-[a-z]+-slim( AS build)?$/);
  });

  it('builds with the package build script and ships only the bundle', () => {
    expect(instructions).toContain('RUN npm ci --no-audit --no-fund');
    expect(instructions).toContain('RUN node scripts/build.mjs /build/dist/server.js');
    const runtime = instructions.slice(instructions.findIndex((l, i) => i > 0 && l.startsWith('FROM ')));
    expect(runtime.filter((l) => l.startsWith('COPY'))).toEqual(['COPY --from=build --chown=root:root /build/dist/server.js /build/dist/server.js.map /app/dist/']);
    expect(runtime.some((l) => l.includes('npm'))).toBe(false);
  });

  it('runs as the non-root node user with a health check on /health and the bundle as CMD', () => {
    const runtime = instructions.slice(instructions.findIndex((l, i) => i > 0 && l.startsWith('FROM ')));
    expect(runtime).toContain('USER node');
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/\/health/);
    expect(runtime.at(-1)).toBe('CMD ["node", "--enable-source-maps", "dist/server.js"]');
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.findIndex((l) => l.startsWith('CMD')));
  });

  describe('its build context, the repository root', () => {
    const context = buildContext();

    it('holds every COPY source of the build stage', () => {
      const build = instructions.slice(
        0,
        instructions.findIndex((l, i) => i > 0 && l.startsWith('FROM ')),
      );
      const sources = build.filter((l) => l.startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1));
      expect(sources).toEqual(expect.arrayContaining(['chat-domain', 'chat-clients', 'docker/mcp-server/src']));
      for (const source of sources) expect({ source, inContext: context.some((f) => f === source || f.startsWith(`${source}/`)) }).toEqual({ source, inContext: true });
    });

    it('keeps tests, local mode, node_modules and the rest of the repository out', () => {
      expect(context.filter((f) => /(^|\/)(node_modules|test)\//.test(f) || /^(lib|lambda|scripts|bench)\//.test(f))).toEqual([]);
      expect(context).not.toContain('docker/mcp-server/scripts/local.ts');
      expect(context).not.toContain('docker/mcp-server/src/auth/local-issuer.ts');
      expect(context).toContain('docker/mcp-server/src/main.ts');
    });
  });
});
