import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../../lib/config';
import { standInClients } from '../../support/aws/sdk-env';
import { CheckFailed, type PreflightContext } from '../../../scripts/preflight/check';
import { buildxCheck, dockerCheck, parseBuildxLs } from '../../../scripts/preflight/docker';
import { BUILDX_AMD64_ONLY, BUILDX_INACTIVE, BUILDX_LEGACY_ARM64, BUILDX_MULTIARCH, fakeDocker, FakeDockerOptions } from '../../support/fake-docker';
import { cdkJsonEnvironments } from '../../support/synth';

function context(docker: string, architecture: 'arm64' | 'x86_64' = 'arm64', assemblyPlatforms: string[] = ['linux/arm64']): PreflightContext {
  const envs = cdkJsonEnvironments();
  envs.development.images = { architecture };
  return {
    config: loadConfig(envs, 'development'),
    context: {},
    // The docker checks make no AWS call; the clients would fail on a closed loopback port if they did.
    aws: standInClients('http://127.0.0.1:9'),
    docker,
    toolkitStackName: 'CDKToolkit',
    assembly: { dir: '/dev/null', stackName: 'PhenomChat-development', requiredBootstrapVersion: 6, dockerImages: 3, dockerPlatforms: assemblyPlatforms },
  };
}

const run = (check: typeof dockerCheck, options: FakeDockerOptions, ...rest: Parameters<typeof context> extends [string, ...infer R] ? R : never) =>
  check.run(context(fakeDocker(options).path, ...rest));

describe('parseBuildxLs', () => {
  it('reads the current builder and its running nodes’ platforms from the tree table of buildx 0.13+', () => {
    expect(parseBuildxLs(BUILDX_MULTIARCH)).toEqual([
      {
        name: 'multiarch',
        current: true,
        nodes: [
          {
            name: 'multiarch0',
            status: 'running',
            platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/arm64', 'linux/riscv64', 'linux/ppc64le', 'linux/s390x', 'linux/386', 'linux/arm/v7', 'linux/arm/v6'],
          },
        ],
      },
      { name: 'default', current: false, nodes: [{ name: 'default', status: 'running', platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/386'] }] },
    ]);
  });

  it('reads the older table, where the current builder has a separate * column', () => {
    const [desktop, fallback] = parseBuildxLs(BUILDX_LEGACY_ARM64);
    expect(desktop).toMatchObject({ name: 'desktop-linux', current: true });
    expect(desktop.nodes[0].platforms.slice(0, 2)).toEqual(['linux/arm64', 'linux/amd64']);
    expect(fallback).toMatchObject({ name: 'default', current: false });
  });

  it('does not take the endpoint path for platforms, and keeps an inactive node without any', () => {
    expect(parseBuildxLs(BUILDX_INACTIVE)[0].nodes).toEqual([{ name: 'builder0', status: 'inactive', platforms: [] }]);
  });
});

describe('the docker check', () => {
  it('passes when the engine answers, naming its version and platform', async () => {
    await expect(run(dockerCheck, { engine: 'running', buildx: BUILDX_MULTIARCH })).resolves.toBe('Docker Engine 28.2.2 (linux/amd64)');
  });

  it('says to start Docker when the client cannot reach the engine', async () => {
    await expect(run(dockerCheck, { engine: 'stopped', buildx: BUILDX_MULTIARCH })).rejects.toThrow(
      new CheckFailed(
        'the Docker engine is not running (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start Docker (Docker Desktop, or `sudo systemctl start docker`), then run this again',
      ),
    );
  });

  it('says to install Docker when there is no such executable', async () => {
    const missing = join(tmpdir(), 'no-such-dir', 'docker');
    await expect(dockerCheck.run(context(missing))).rejects.toThrow(`no docker executable (${missing}): install Docker`);
  });
});

describe('the buildx check', () => {
  it('passes when the current builder builds the configured and the assembly’s platforms', async () => {
    await expect(run(buildxCheck, { engine: 'running', buildx: BUILDX_MULTIARCH })).resolves.toBe('builder "multiarch" builds linux/arm64');
    await expect(run(buildxCheck, { engine: 'running', buildx: BUILDX_LEGACY_ARM64 })).resolves.toBe('builder "desktop-linux" builds linux/arm64');
  });

  it('fails for arm64 images on a builder without arm64, with the ways out', async () => {
    const failure = run(buildxCheck, { engine: 'running', buildx: BUILDX_AMD64_ONLY });
    await expect(failure).rejects.toThrow(
      /^the current buildx builder "default" builds for linux\/amd64, linux\/amd64\/v2, linux\/amd64\/v3, linux\/386, not linux\/arm64 \(images\.architecture is arm64/,
    );
    await expect(failure).rejects.toThrow('`docker run --privileged --rm tonistiigi/binfmt --install arm64`');
  });

  it('goes by the assembly too: x86_64 configured, but an image still asks for linux/arm64', async () => {
    await expect(run(buildxCheck, { engine: 'running', buildx: BUILDX_AMD64_ONLY }, 'x86_64', ['linux/amd64'])).resolves.toBe('builder "default" builds linux/amd64');
    await expect(run(buildxCheck, { engine: 'running', buildx: BUILDX_AMD64_ONLY }, 'x86_64', ['linux/amd64', 'linux/arm64'])).rejects.toThrow(
      /not linux\/arm64 \(images\.architecture is x86_64; the assembly's images want linux\/amd64, linux\/arm64\)/,
    );
  });

  it('says to start a builder that is not running', async () => {
    await expect(run(buildxCheck, { engine: 'running', buildx: BUILDX_INACTIVE })).rejects.toThrow(
      'the current buildx builder "builder" is not running (builder0: inactive): start it with `docker buildx inspect --bootstrap builder`',
    );
  });

  it('says to install the plugin when docker has no buildx command', async () => {
    await expect(run(buildxCheck, { engine: 'running', buildx: 'missing' })).rejects.toThrow(
      'the buildx plugin is missing (docker: unknown command: docker buildx): install it (Debian/Ubuntu: `apt-get install docker-buildx-plugin`; Docker Desktop has it)',
    );
  });
});
