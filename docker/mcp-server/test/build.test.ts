import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const PACKAGE = resolve(__dirname, '..');

/**
 * Runs the real scripts/build.mjs in a scratch repository laid out like this one (and like the
 * image's /build): the package with its node_modules, and a shared module beside it whose source is `shared`.
 */
function buildWithSharedModule(shared: string): { status: number | null; output: string; sources: string[] } {
  const repo = mkdtempSync(join(tmpdir(), 'mcp-build-'));
  try {
    const files: Record<string, string> = {
      'docker/mcp-server/src/main.ts': "import { value } from '../../../chat-shared-probe/probe';\nconsole.log(value);\n",
      'chat-shared-probe/probe.ts': shared,
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), source);
    }
    mkdirSync(join(repo, 'docker/mcp-server/scripts'));
    copyFileSync(join(PACKAGE, 'scripts/build.mjs'), join(repo, 'docker/mcp-server/scripts/build.mjs'));
    symlinkSync(join(PACKAGE, 'node_modules'), join(repo, 'docker/mcp-server/node_modules'), 'dir');
    // The repository root's own dependencies, which the image does not have.
    symlinkSync(resolve(PACKAGE, '../../node_modules'), join(repo, 'node_modules'), 'dir');
    const outfile = join(repo, 'out.js');
    const r = spawnSync(process.execPath, [join(repo, 'docker/mcp-server/scripts/build.mjs'), outfile], { encoding: 'utf8' });
    const sources = r.status === 0 ? (JSON.parse(readFileSync(`${outfile}.map`, 'utf8')) as { sources: string[] }).sources : [];
    return { status: r.status, output: r.stdout + r.stderr, sources };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

describe('scripts/build.mjs with a shared module beside the package', () => {
  it("bundles a package the shared module imports from the server's own node_modules", () => {
    const { status, output, sources } = buildWithSharedModule("import { z } from 'zod';\nexport const value = z.string().parse('ok');\n");
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('built ') });
    const zod = sources.filter((s) => s.includes('/node_modules/zod/'));
    expect(zod.length).toBeGreaterThan(0);
    for (const s of zod) expect(s).toContain('docker/mcp-server/node_modules/zod/');
  });

  it('fails, naming the package, when the shared module imports one only the repository root has', () => {
    const { status, output } = buildWithSharedModule("import { parse } from 'yaml';\nexport const value = parse('a: 1');\n");
    expect(status).not.toBe(0);
    expect(output).toContain('yaml, imported by ../../chat-shared-probe/probe.ts, is not a dependency of docker/mcp-server/package.json');
  });
});
