import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/*
 * lib/ (synth time) and lambda/ (run time) meet only in chat-domain/: what both must agree on
 * (rooms, groups and entitlements, header names, deploy step limits, the sql/ and metadata readers)
 * lives there, and chat-domain/ itself depends on neither. Code that runs outside the tests
 * (scripts, the MCP server) imports nothing from test/.
 */
const REPO = resolve(__dirname, '../..');
const FORBIDDEN: Record<string, readonly string[]> = {
  lib: ['lambda'],
  lambda: ['lib'],
  'chat-domain': ['lib', 'lambda', 'docker', 'test', 'scripts'],
  // What `npm run local` and the image run never reach into the test tree.
  scripts: ['test'],
  'docker/mcp-server/scripts': ['test'],
  'docker/mcp-server/src': ['test', 'lib', 'lambda'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every import, re-export, require() and import() of the files below `root`'s top folders that reaches a folder it may not. */
function crossings(root: string): string[] {
  const found: string[] = [];
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    let files: string[];
    try {
      files = sourceFiles(join(root, from));
    } catch {
      continue;
    }
    for (const file of files) {
      // The compiler's own scanner: it sees every module reference, however the statement is written.
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName } of importedFiles) {
        if (!fileName.startsWith('.')) continue;
        const top = relative(root, resolve(dirname(file), fileName)).split(sep)[0]!;
        if (banned.includes(top)) found.push(`${relative(root, file)} → ${fileName}`);
      }
    }
  }
  return found.sort();
}

describe('what may import what', () => {
  it('nothing in lib/ imports lambda/ or the reverse, chat-domain/ imports neither, and no script or server source imports test/', () => {
    expect(crossings(REPO)).toEqual([]);
  });

  it('finds a crossing however it is written: import, type import, re-export, require and import()', () => {
    const root = mkdtempSync(join(tmpdir(), 'imports-'));
    try {
      for (const dir of ['lib/a', 'lambda/b', 'chat-domain']) mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, 'lib/a/one.ts'), "import { x } from '../../lambda/b/x';\nimport type { Y } from '../../chat-domain/y';\n");
      writeFileSync(join(root, 'lib/a/two.ts'), "export { x } from '../../lambda/b/x';\nconst z = require('../../lambda/b/z');\n");
      writeFileSync(join(root, 'lambda/b/x.ts'), "export const x = import('../../lib/a/one');\n");
      writeFileSync(join(root, 'chat-domain/y.ts'), "import '../lambda/b/x';\nexport type Y = string;\n");
      expect(crossings(root)).toEqual([
        'chat-domain/y.ts → ../lambda/b/x',
        'lambda/b/x.ts → ../../lib/a/one',
        'lib/a/one.ts → ../../lambda/b/x',
        'lib/a/two.ts → ../../lambda/b/x',
        'lib/a/two.ts → ../../lambda/b/z',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
