import { execFile } from 'node:child_process';
import { CheckFailed, type Check } from './check';

export interface DockerRun {
  /** The exit code, or the spawn error's code (ENOENT: no such executable). */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the docker CLI. 20 s: `docker version` answers at once when the engine is up or plainly
 * down, and only hangs when the engine is wedged, which is a failure worth reporting as such.
 */
export function runDocker(docker: string, args: readonly string[], timeoutMs = 20_000): Promise<DockerRun> {
  return new Promise((resolve) => {
    execFile(docker, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      const code = !e ? 0 : e.killed ? 'ETIMEDOUT' : typeof e.code === 'number' ? e.code : (e.code ?? 1);
      resolve({ code, stdout: stdout ?? '', stderr: stderr ?? '' });
    });
  });
}

const firstLine = (s: string) => s.trim().split('\n')[0];

const notInstalled = (docker: string) =>
  `no docker executable (${docker}): install Docker (Docker Desktop, or Docker Engine with the buildx plugin), or point CDK_DOCKER at it; cdk deploy builds the container images with it`;

export const dockerCheck: Check = {
  name: 'docker',
  doing: 'ask the Docker engine for its version',
  async run(ctx) {
    // The JSON template prints the client part even when the engine is unreachable (Server: null).
    const r = await runDocker(ctx.docker, ['version', '--format', '{{json .}}']);
    if (r.code === 'ENOENT') throw new CheckFailed(notInstalled(ctx.docker));
    if (r.code === 'ETIMEDOUT') throw new CheckFailed('the Docker engine did not answer within 20 s: restart Docker');
    let version: { Client?: { Version?: string }; Server?: { Version?: string; Os?: string; Arch?: string } | null } = {};
    try {
      version = JSON.parse(r.stdout.trim().split('\n')[0] || '{}');
    } catch {
      // An old client that cannot format JSON: fall through to the stderr sentence.
    }
    if (r.code === 0 && version.Server) return `Docker Engine ${version.Server.Version} (${version.Server.Os}/${version.Server.Arch})`;
    const reason = firstLine(r.stderr) || `docker version exited ${r.code}`;
    if (/permission denied/i.test(reason)) {
      throw new CheckFailed(`the Docker engine refuses this user (${reason}): add the user to the docker group (\`sudo usermod -aG docker $USER\`, then log in again)`);
    }
    throw new CheckFailed(`the Docker engine is not running (${reason}): start Docker (Docker Desktop, or \`sudo systemctl start docker\`), then run this again`);
  },
};

export interface BuildxBuilder {
  readonly name: string;
  readonly current: boolean;
  readonly nodes: Array<{ readonly name: string; readonly status: string; readonly platforms: string[] }>;
}

const NODE_STATUS = /\s(running|inactive|stopped|starting|stopping|error)\b/;

/**
 * Parses the table `docker buildx ls` prints: a line per builder (the current one marked with
 * `*` after its name, or as a separate `*` column in older buildx), then an indented line per
 * node with its status and the platforms it builds for (`linux/amd64, linux/arm64*, …`; a `*`
 * marks a platform set by hand).
 */
export function parseBuildxLs(stdout: string): BuildxBuilder[] {
  const builders: Array<BuildxBuilder & { nodes: BuildxBuilder['nodes'] }> = [];
  for (const line of stdout.split('\n').slice(1)) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      const m = /^(\S+?)(\*)?(?:\s+(\*))?\s/.exec(`${line} `);
      if (m) builders.push({ name: m[1], current: Boolean(m[2] || m[3]), nodes: [] });
      continue;
    }
    const builder = builders.at(-1);
    const status = NODE_STATUS.exec(line);
    if (!builder || !status) continue;
    const name = line
      .trim()
      .replace(/^\\_\s*/, '')
      .split(/\s+/)[0];
    const after = line.slice(status.index + status[0].length);
    const platforms = [...after.matchAll(/\b([a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?)\*?/g)].map((p) => p[1]);
    builder.nodes.push({ name, status: status[1], platforms });
  }
  return builders;
}

/** The Docker platform of an `images.architecture` value. */
export const dockerPlatform = (architecture: 'arm64' | 'x86_64'): string => (architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64');

export const buildxCheck: Check = {
  name: 'buildx',
  doing: 'list the buildx builders',
  needs: ['docker', 'synth'],
  async run(ctx) {
    const r = await runDocker(ctx.docker, ['buildx', 'ls']);
    if (r.code === 'ENOENT') throw new CheckFailed(notInstalled(ctx.docker));
    if (r.code !== 0) {
      const reason = firstLine(r.stderr) || `docker buildx ls exited ${r.code}`;
      if (/unknown command|not a docker command/.test(reason)) {
        throw new CheckFailed(`the buildx plugin is missing (${reason}): install it (Debian/Ubuntu: \`apt-get install docker-buildx-plugin\`; Docker Desktop has it)`);
      }
      throw new CheckFailed(`docker buildx ls failed (${reason})`);
    }
    const builders = parseBuildxLs(r.stdout);
    const builder = builders.find((b) => b.current) ?? builders.find((b) => b.name === 'default');
    if (!builder) throw new CheckFailed(`docker buildx ls lists no builder: create one (\`docker buildx create --use\`)`);
    const running = builder.nodes.filter((n) => n.status === 'running');
    if (!running.length) {
      throw new CheckFailed(
        `the current buildx builder "${builder.name}" is not running (${builder.nodes.map((n) => `${n.name}: ${n.status}`).join(', ') || 'no nodes'}): start it with \`docker buildx inspect --bootstrap ${builder.name}\``,
      );
    }
    const available = new Set(running.flatMap((n) => n.platforms));
    const configured = dockerPlatform(ctx.config.images.architecture);
    const needed = [...new Set([configured, ...(ctx.assembly?.dockerPlatforms ?? [])])].sort();
    const missing = needed.filter((p) => !available.has(p));
    if (missing.length) {
      const arch = missing.map((p) => p.split('/')[1]).join(',');
      throw new CheckFailed(
        `the current buildx builder "${builder.name}" builds for ${[...available].join(', ') || 'no platform'}, not ${missing.join(', ')} ` +
          `(images.architecture is ${ctx.config.images.architecture}; the assembly's images want ${(ctx.assembly?.dockerPlatforms ?? []).join(', ') || 'the engine platform'}): ` +
          `install QEMU emulation (\`docker run --privileged --rm tonistiigi/binfmt --install ${arch}\`), switch to a builder with such a node (\`docker buildx use NAME\`), ` +
          `or set images.architecture to the platform this machine builds`,
      );
    }
    return `builder "${builder.name}" builds ${needed.join(', ')}`;
  },
};
