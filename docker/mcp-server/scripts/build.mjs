// Bundles the server into one file, dist/server.js, for the container image (Dockerfile) and for
// the tests, which run that exact file with `node`. Usage: node scripts/build.mjs [outfile]
// The server imports the repository's shared modules (chat-domain/, chat-clients/) by relative
// path; the image lays them out beside the package as the repository does (see the Dockerfile).
import { dirname, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = resolve(process.argv[2] ?? resolve(root, 'dist/server.js'));
const resolving = Symbol('from the package');

/**
 * A package a shared module imports is this package's dependency, resolved from its node_modules:
 * in the image there is no other, and here the repository root's copy (another version, maybe)
 * must not be bundled instead. A shared module importing something this package lacks fails the build.
 */
const sharedModulesUsePackageDependencies = {
  name: 'shared-modules-use-package-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.pluginData === resolving || !args.importer || !relative(root, args.importer).startsWith(`..${sep}`)) return undefined;
      return b.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: resolving });
    });
  },
};

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
  plugins: [sharedModulesUsePackageDependencies],
});
process.stdout.write(`built ${outfile}\n`);
