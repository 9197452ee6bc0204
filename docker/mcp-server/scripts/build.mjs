// Bundles the server into one file, dist/server.js, for the container image (Dockerfile) and for
// the tests, which run that exact file with `node`. Usage: node scripts/build.mjs [outfile]
// The server imports the repository's shared modules (chat-domain/, chat-clients/) by relative
// path; the image lays them out beside the package as the repository does (see the Dockerfile).
import { dirname, relative, resolve, sep } from 'node:path';
import { realpathSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = resolve(process.argv[2] ?? resolve(root, 'dist/server.js'));
const resolving = Symbol('from the package');
const dependencies = realpathSync(resolve(root, 'node_modules'));

/**
 * A package a shared module imports is this package's dependency, resolved from its node_modules:
 * in the image there is no other, and here the repository root's copy (another version, maybe)
 * must not be bundled instead. A shared module importing something this package lacks fails the build.
 */
const sharedModulesUsePackageDependencies = {
  name: 'shared-modules-use-package-dependencies',
  setup(b) {
    // Bare package names only: not relative paths, not a package's own #imports.
    b.onResolve({ filter: /^[^./#]/ }, async (args) => {
      const fromSharedModule = args.importer && relative(root, args.importer).startsWith(`..${sep}`) && !args.importer.includes(`${sep}node_modules${sep}`);
      if (args.pluginData === resolving || !fromSharedModule) return undefined;
      const result = await b.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: resolving });
      if (result.errors.length > 0 || result.external || result.path.startsWith(`${dependencies}${sep}`)) return result;
      // Found further up (the repository root's node_modules), which the image does not have.
      return { errors: [{ text: `${args.path}, imported by ${relative(root, args.importer)}, is not a dependency of docker/mcp-server/package.json` }] };
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
