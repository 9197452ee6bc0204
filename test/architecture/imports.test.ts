import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/*
 * lib/ (synth time), lambda/ (run time) and the MCP server meet only in the shared modules:
 * chat-domain/ holds what they must agree on (rooms, groups and entitlements, header names, the
 * content limit, deploy step limits, the sql/ and metadata readers), chat-clients/ the one HTTP
 * layer and the Matrix and Hasura clients. The shared modules depend on none of them. Code that
 * runs outside the tests (scripts, the MCP server) imports nothing from test/.
 */
const REPO = resolve(__dirname, '../..');
const FORBIDDEN: Record<string, readonly string[]> = {
  lib: ['lambda', 'docker'],
  lambda: ['lib', 'docker'],
  'chat-domain': ['lib', 'lambda', 'docker', 'test', 'scripts', 'chat-clients'],
  'chat-clients': ['lib', 'lambda', 'docker', 'test', 'scripts'],
  // What `npm run local` and the image run never reach into the test tree.
  scripts: ['test'],
  'docker/mcp-server/scripts': ['test'],
};
/**
 * The image bundles the server's sources and the shared modules only (the Dockerfile's COPYs):
 * an import of anything else would build here and fail in the image, or ship the wrong code.
 */
const ONLY_FROM: Record<string, readonly string[]> = {
  'docker/mcp-server/src': ['docker/mcp-server/src', 'chat-domain', 'chat-clients'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import, re-export, require() and import() of each file below `root/from`, as [file, specifier, target relative to root]. */
function relativeImports(root: string, from: string): [file: string, specifier: string, target: string][] {
  let files: string[];
  try {
    files = sourceFiles(join(root, from));
  } catch {
    return [];
  }
  return files.flatMap((file) =>
    // The compiler's own scanner: it sees every module reference, however the statement is written.
    ts
      .preProcessFile(readFileSync(file, 'utf8'), true, true)
      .importedFiles.filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }): [string, string, string] => [
        relative(root, file),
        fileName,
        relative(root, resolve(dirname(file), fileName))
          .split(sep)
          .join('/'),
      ]),
  );
}

/** Every import of the files below `root`'s folders that reaches a folder it may not. */
function crossings(root: string): string[] {
  const found: string[] = [];
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    for (const [file, specifier, target] of relativeImports(root, from)) if (banned.includes(target.split('/')[0]!)) found.push(`${file} → ${specifier}`);
  }
  for (const [from, allowed] of Object.entries(ONLY_FROM)) {
    for (const [file, specifier, target] of relativeImports(root, from)) {
      if (!allowed.some((dir) => target === dir || target.startsWith(`${dir}/`))) found.push(`${file} → ${specifier}`);
    }
  }
  return found.sort();
}

/** The crossings of a scratch tree holding just `files` (path → source). */
function crossingsOf(files: Record<string, string>): string[] {
  const root = mkdtempSync(join(tmpdir(), 'imports-'));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    return crossings(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('what may import what', () => {
  it('nothing in lib/ imports lambda/ or the reverse, the shared modules import neither, the MCP server only itself and them, and no script imports test/', () => {
    expect(crossings(REPO)).toEqual([]);
  });

  it('finds a crossing however it is written: import, type import, re-export, require and import()', () => {
    expect(
      crossingsOf({
        'lib/a/one.ts': "import { x } from '../../lambda/b/x';\nimport type { Y } from '../../chat-domain/y';\n",
        'lib/a/two.ts': "export { x } from '../../lambda/b/x';\nconst z = require('../../lambda/b/z');\n",
        'lambda/b/x.ts': "export const x = import('../../lib/a/one');\n",
        'chat-domain/y.ts': "import '../lambda/b/x';\nexport type Y = string;\n",
      }),
    ).toEqual(['chat-domain/y.ts → ../lambda/b/x', 'lambda/b/x.ts → ../../lib/a/one', 'lib/a/one.ts → ../../lambda/b/x', 'lib/a/two.ts → ../../lambda/b/x', 'lib/a/two.ts → ../../lambda/b/z']);
  });

  it('lets the MCP server import its own sources and the shared modules, and nothing else', () => {
    const server = [
      "import { rooms } from '../../../../chat-domain/rooms';",
      "import { MatrixClient } from '../../../../chat-clients/matrix-client';",
      "import { b } from './b';",
      "import { config } from '../config';",
      "import { z } from 'zod';",
      "import { fixture } from '../../test/support/fixture';",
      "import { stack } from '../../../../lib/stack';",
      "import type { Handler } from '../../../../lambda/x/handler';",
      "export { dev } from '../../scripts/local';",
    ].join('\n');
    expect(
      crossingsOf({
        'docker/mcp-server/src/backend/a.ts': server,
        'chat-clients/c.ts': "import { b } from '../docker/mcp-server/src/backend/b';\nimport { rooms } from '../chat-domain/rooms';\n",
      }),
    ).toEqual([
      'chat-clients/c.ts → ../docker/mcp-server/src/backend/b',
      'docker/mcp-server/src/backend/a.ts → ../../../../lambda/x/handler',
      'docker/mcp-server/src/backend/a.ts → ../../../../lib/stack',
      'docker/mcp-server/src/backend/a.ts → ../../scripts/local',
      'docker/mcp-server/src/backend/a.ts → ../../test/support/fixture',
    ]);
  });
});
