// Bundles the server into one file, dist/server.js, for the container image (Dockerfile) and for
// the tests, which run that exact file with `node`. Usage: node scripts/build.mjs [outfile]
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = resolve(process.argv[2] ?? resolve(root, 'dist/server.js'));

await build({
  entryPoints: [resolve(root, 'src/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  // The image runs Node 22; Node 20 (the dev machines) must run the same file in tests.
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  minifySyntax: true,
  // pg's optional native binding is never installed; the pure-JS client is used.
  external: ['pg-native'],
  logLevel: 'warning',
  legalComments: 'none',
});
process.stdout.write(`built ${outfile}\n`);
