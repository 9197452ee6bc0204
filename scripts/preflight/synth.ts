import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { configFromContext, createStacks, stackName } from '../../lib/app';
import { CheckFailed, type Check } from './check';

/** What the deploy needs from its account and machine, as the synthesized cloud assembly says. */
export interface AssemblyFacts {
  readonly dir: string;
  readonly stackName: string;
  /**
   * The lowest CDK bootstrap version the stack and its assets accept: the synthesizer writes it as
   * `requiresBootstrapStackVersion`, and the template's CheckBootstrapVersion rule enforces it.
   */
  readonly requiredBootstrapVersion: number;
  /** The bootstrap qualifier, from `/cdk-bootstrap/<qualifier>/version` (default hnb659fds). */
  readonly bootstrapQualifier?: string;
  /** Docker image assets the deploy builds, and the platforms they are built for. */
  readonly dockerImages: number;
  readonly dockerPlatforms: readonly string[];
}

interface Manifest {
  readonly artifacts?: Record<string, { type: string; dependencies?: string[]; properties?: Record<string, unknown> }>;
}

/** Reads the facts about `stackName` from a cloud assembly directory (cdk.out). */
export function readAssembly(dir: string, stackName: string): AssemblyFacts {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new CheckFailed(`${dir} is not a cloud assembly (no manifest.json): run \`npx cdk synth\` or leave out --app`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const artifacts = manifest.artifacts ?? {};
  const stack = artifacts[stackName];
  if (stack?.type !== 'aws:cloudformation:stack') {
    throw new CheckFailed(`the assembly in ${dir} has no stack ${stackName}: synthesize it with the same -c env=… (or leave out --app)`);
  }
  // The stack and the asset manifests it depends on each say which bootstrap version they need.
  // The lookup role's higher requirement is left out on purpose: nothing here does context lookups.
  const related = [stack, ...(stack.dependencies ?? []).map((d) => artifacts[d]).filter((a) => a?.type === 'cdk:asset-manifest')];
  const versions = related.map((a) => Number(a.properties?.requiresBootstrapStackVersion ?? 0));
  const ssm = String(stack.properties?.bootstrapStackVersionSsmParameter ?? '');
  const platforms = new Set<string>();
  let dockerImages = 0;
  for (const a of related.filter((r) => r.type === 'cdk:asset-manifest')) {
    const assets = JSON.parse(readFileSync(join(dir, String(a.properties?.file)), 'utf8')) as { dockerImages?: Record<string, { source?: { platform?: string } }> };
    for (const image of Object.values(assets.dockerImages ?? {})) {
      dockerImages++;
      // An image without a platform is built for the Docker engine's own platform.
      if (image.source?.platform) platforms.add(image.source.platform);
    }
  }
  return {
    dir,
    stackName,
    requiredBootstrapVersion: Math.max(0, ...versions),
    bootstrapQualifier: /^\/cdk-bootstrap\/([^/]+)\/version$/.exec(ssm)?.[1],
    dockerImages,
    dockerPlatforms: [...platforms].sort(),
  };
}

/**
 * Synthesizes the app into `outdir` in this process, as `cdk deploy` would (same context, same
 * createStacks, cdk-nag included). Returns the stack's name.
 */
export function synthesizeAssembly(context: Record<string, unknown>, outdir: string): string {
  // CDK writes "Bundling asset …" for every Lambda to stderr; the check prints its own result line.
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const app = new App({ outdir, context, builtinCloudFormationValidation: process.env.PHENOM_CFN_VALIDATE === '1' });
    const [stack] = createStacks(app, configFromContext(app));
    app.synth();
    return stack.stackName;
  } finally {
    process.stderr.write = write;
  }
}

export const synthCheck: Check = {
  name: 'synth',
  doing: 'synthesize the app',
  async run(ctx) {
    const name = stackName(ctx.config);
    if (ctx.appDir) {
      ctx.assembly = readAssembly(ctx.appDir, name);
    } else {
      const outdir = mkdtempSync(join(tmpdir(), 'phenom-preflight-'));
      try {
        synthesizeAssembly(ctx.context, outdir);
      } catch (err) {
        throw new CheckFailed(
          `cdk synth fails, so cdk deploy would too: ${(err as Error).message.split('\n').slice(0, 6).join(' ')} (run \`npx cdk synth -c env=${ctx.config.envName}\` for the whole output)`,
        );
      }
      ctx.assembly = readAssembly(outdir, name);
    }
    const a = ctx.assembly;
    const images = a.dockerImages ? `${a.dockerImages} container images (${a.dockerPlatforms.join(', ') || 'engine platform'})` : 'no container images';
    return `${a.stackName} in ${a.dir}: ${images}, needs CDK bootstrap version ${a.requiredBootstrapVersion} or later`;
  },
};
