import { cpSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';

/** Repository root: every Lambda entry is under `lambda/`. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * The esbuild options every Lambda of the app is built with. One definition,
 * used by ChatFunction at synth and by `npm run bench:lambdas`, so the
 * benchmark measures exactly what is deployed.
 */
export function lambdaBuildOptions(entryFile: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entryFile],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    sourcemap: true,
    // Stack traces need file and line mappings, not the sources: without them the maps are
    // a quarter of the size and --enable-source-maps parses them faster at cold start.
    sourcesContent: false,
    // The Node.js 22 runtime provides AWS SDK v3; bundling it would only add cold-start time.
    external: ['@aws-sdk/*'],
    legalComments: 'none',
    logLevel: 'silent',
  };
}

/**
 * Bundles `lambda/<entry>` into `outputDir/index.js` in-process with esbuild's API.
 * In-process matters: NodejsFunction spawns esbuild through npx once per function,
 * which cost most of a second each and dominated `cdk synth` time.
 */
export function bundleLambda(entry: string, outputDir: string, copyDirectories: readonly string[] = []): void {
  // Loaded lazily: esbuild is a dev dependency, needed only when synth actually bundles.
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  buildSync(lambdaBuildOptions(path.join(REPO_ROOT, 'lambda', entry), path.join(outputDir, 'index.js')));
  for (const dir of copyDirectories) {
    cpSync(path.join(REPO_ROOT, dir), path.join(outputDir, path.basename(dir)), { recursive: true });
  }
}
