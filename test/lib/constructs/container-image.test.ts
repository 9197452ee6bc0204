import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_HASURA_IMAGE } from '../../../lib/config';
import { containerPlatform } from '../../../lib/constructs/container-image';
import { assemblyDir, stackTemplate, synthesizeVariant } from '../../support/synth';
import { imagesVariant, X86_HASURA_IMAGE } from '../../support/synth-variants';

const STACK = 'PhenomChat-development';
const DOCKER = join(__dirname, '../../../docker');

/** The docker image assets of a synthesized stack, as `cdk deploy` will build them (cdk.out/<stack>.assets.json). */
type DockerImageAsset = { source: { directory: string; dockerFile?: string; platform?: string; dockerBuildArgs?: Record<string, string> } };

/** The development stack and its image assets: the shared synth of the global setup for cdk.json's config, a synth of its own for a variant. */
function synthWith(architecture?: 'arm64' | 'x86_64', hasuraImage?: string) {
  if (!architecture && !hasuraImage) return fromAssembly(stackTemplate('development'), assemblyDir('development'));
  const { templates, outdir } = synthesizeVariant(imagesVariant(architecture, hasuraImage));
  return fromAssembly(Template.fromJSON(templates[STACK] as Record<string, unknown>), outdir);
}

function fromAssembly(template: Template, outdir: string) {
  const manifest = JSON.parse(readFileSync(join(outdir, `${STACK}.assets.json`), 'utf8')) as { dockerImages: Record<string, DockerImageAsset> };
  return { template, images: Object.values(manifest.dockerImages), outdir };
}

/** Every file below `dir`, relative to it, with / separators. */
function filesBelow(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? filesBelow(dir, rel) : [rel];
  });
}

describe('the MCP server image (docker/mcp-server)', () => {
  const { images, outdir } = synthWith();
  const mcp = images.filter((i) => i.source.dockerFile === 'docker/mcp-server/Dockerfile');

  it('is built from the repository root with its own Dockerfile, and CDK stages only what /.dockerignore lets in', () => {
    expect(mcp).toHaveLength(1);
    const context = filesBelow(join(outdir, mcp[0]!.source.directory));
    expect(context).toEqual(
      expect.arrayContaining(['.dockerignore', 'docker/mcp-server/Dockerfile', 'docker/mcp-server/package-lock.json', 'docker/mcp-server/src/main.ts', 'chat-domain/rooms.ts', 'chat-clients/http.ts']),
    );
    const outside = context.filter((f) => !/^(\.dockerignore$|chat-domain\/|chat-clients\/|docker\/mcp-server\/(Dockerfile|package\.json|package-lock\.json|scripts\/build\.mjs|src\/))/.test(f));
    expect(outside).toEqual([]);
    expect(context.filter((f) => f.includes('node_modules') || f.endsWith('local-issuer.ts') || f.endsWith('.md'))).toEqual([]);
    // A few hundred kB of sources, not the repository.
    expect(context.length).toBeLessThan(150);
  });
});

describe('containerPlatform', () => {
  it('maps each images.architecture to the matching build platform and Fargate CPU architecture', () => {
    expect(containerPlatform('arm64').assetPlatform.platform).toBe('linux/arm64');
    expect(containerPlatform('arm64').runtimePlatform.cpuArchitecture?._cpuArchitecture).toBe('ARM64');
    expect(containerPlatform('x86_64').assetPlatform.platform).toBe('linux/amd64');
    expect(containerPlatform('x86_64').runtimePlatform.cpuArchitecture?._cpuArchitecture).toBe('X86_64');
  });

  it('refuses any other value instead of guessing', () => {
    expect(() => containerPlatform('aarch64' as never)).toThrow('images.architecture must be "arm64" or "x86_64", got aarch64');
  });
});

// The default (no images key) and the other value; a custom hasura.image rides along on the second synth.
describe.each([
  { architecture: undefined, cpuArchitecture: 'ARM64', platform: 'linux/arm64', hasuraImage: undefined },
  { architecture: 'x86_64', cpuArchitecture: 'X86_64', platform: 'linux/amd64', hasuraImage: X86_HASURA_IMAGE },
] as const)('images.architecture = $architecture', ({ architecture, cpuArchitecture, platform, hasuraImage }) => {
  const { template, images } = synthWith(architecture, hasuraImage);

  it(`runs every Fargate task definition on ${cpuArchitecture}`, () => {
    const tasks = Object.entries(template.findResources('AWS::ECS::TaskDefinition'));
    // Synapse, its Admin UI, the MCP server and the Hasura engine.
    expect(tasks).toHaveLength(4);
    for (const [id, task] of tasks) {
      expect({ id, runtimePlatform: task.Properties.RuntimePlatform }).toEqual({ id, runtimePlatform: { CpuArchitecture: cpuArchitecture, OperatingSystemFamily: 'LINUX' } });
    }
  });

  it(`builds every image asset for ${platform}, the Hasura engine included`, () => {
    // One image per docker/ directory: Synapse, its edge proxy and metrics sidecar, the Admin UI, the MCP server, the Hasura engine.
    expect(images.map((i) => i.source.directory)).toHaveLength(6);
    for (const image of images) expect({ dir: image.source.directory, platform: image.source.platform }).toEqual({ dir: image.source.directory, platform });
  });

  it('gives every container an image from the CDK assets repository in ECR, none from Docker Hub', () => {
    for (const [, task] of Object.entries(template.findResources('AWS::ECS::TaskDefinition'))) {
      for (const container of task.Properties.ContainerDefinitions as { Name: string; Image: unknown }[]) {
        expect({ name: container.Name, image: JSON.stringify(container.Image) }).toEqual({
          name: container.Name,
          image: expect.stringMatching(/\.dkr\.ecr\.[^"]*cdk-hnb659fds-container-assets-/),
        });
      }
    }
  });

  it('builds the Hasura engine from hasura.image (a new tag is a new asset)', () => {
    const hasura = images.filter((i) => i.source.dockerBuildArgs?.HASURA_IMAGE);
    expect(hasura.map((i) => i.source.dockerBuildArgs)).toEqual([{ HASURA_IMAGE: hasuraImage ?? DEFAULT_HASURA_IMAGE }]);
  });
});

describe('the Hasura engine image (docker/hasura)', () => {
  const dockerfile = readFileSync(join(DOCKER, 'hasura', 'Dockerfile'), 'utf8');

  it('builds FROM the configured engine tag, defaulting to the same pin as the config', () => {
    expect(dockerfile).toContain(`ARG HASURA_IMAGE=${DEFAULT_HASURA_IMAGE}\nFROM \${HASURA_IMAGE}\n`);
    expect(DEFAULT_HASURA_IMAGE).toMatch(/^hasura\/graphql-engine:v2\.\d+\.\d+$/);
  });

  it('has no RUN step, so building it for another architecture needs no emulation', () => {
    expect(dockerfile.split('\n').filter((l) => /^\s*RUN\b/i.test(l))).toEqual([]);
  });
});
