import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const dockerfile = readFileSync(resolve(__dirname, '../Dockerfile'), 'utf8');
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

  it('keeps tests, local mode and node_modules out of the build context', () => {
    const ignored = readFileSync(resolve(__dirname, '../.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'test', 'scripts/local.ts', 'src/auth/local-issuer.ts']));
  });
});
