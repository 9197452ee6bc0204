import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for the docker CLI at the process boundary: an executable `docker` script that
 * answers `docker version --format '{{json .}}'` and `docker buildx ls` with what docker 28 and
 * buildx print (the engine-down and no-plugin texts are the CLI's own, captured from a machine
 * with the client and no engine), and exits as docker does.
 */

/** `docker buildx ls` with the default docker-driver builder only (the Docker Engine default on amd64). */
export const BUILDX_AMD64_ONLY = [
  'NAME/NODE     DRIVER/ENDPOINT   STATUS    BUILDKIT   PLATFORMS',
  'default*      docker',
  ' \\_ default   \\_ default       running   v0.23.0    linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/386',
].join('\n');

/** A docker-container builder with QEMU emulation installed (tonistiigi/binfmt), current, beside the default. */
export const BUILDX_MULTIARCH = [
  'NAME/NODE           DRIVER/ENDPOINT                   STATUS    BUILDKIT   PLATFORMS',
  'multiarch*          docker-container',
  ' \\_ multiarch0      \\_ unix:///var/run/docker.sock   running   v0.23.0    linux/amd64, linux/amd64/v2, linux/arm64*, linux/riscv64, linux/ppc64le, linux/s390x, linux/386, linux/arm/v7, linux/arm/v6',
  'default             docker',
  ' \\_ default        \\_ default                       running   v0.23.0    linux/amd64, linux/amd64/v2, linux/386',
].join('\n');

/** Older buildx (before 0.13): the current builder marked by a separate `*` column, nodes indented. */
export const BUILDX_LEGACY_ARM64 = [
  'NAME/NODE       DRIVER/ENDPOINT             STATUS  BUILDKIT PLATFORMS',
  'desktop-linux * docker',
  '  desktop-linux desktop-linux               running v0.11.6  linux/arm64, linux/amd64, linux/amd64/v2, linux/riscv64, linux/ppc64le, linux/s390x, linux/386, linux/arm/v7, linux/arm/v6',
  'default         docker',
  '  default       default                     running v0.11.6  linux/arm64, linux/amd64',
].join('\n');

/** A docker-container builder that was created but never started. */
export const BUILDX_INACTIVE = [
  'NAME/NODE         DRIVER/ENDPOINT                   STATUS     BUILDKIT   PLATFORMS',
  'builder*          docker-container',
  ' \\_ builder0      \\_ unix:///var/run/docker.sock   inactive',
  'default           docker',
  ' \\_ default      \\_ default                       running    v0.23.0    linux/amd64',
].join('\n');

const CLIENT =
  '"Client":{"Version":"28.2.2","ApiVersion":"1.50","DefaultAPIVersion":"1.50","GitCommit":"e6534b4","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Context":"default"}';
const SERVER =
  '"Server":{"Platform":{"Name":"Docker Engine - Community"},"Version":"28.2.2","ApiVersion":"1.50","MinAPIVersion":"1.24","GitCommit":"45873be","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","KernelVersion":"6.8.0-60-generic","BuildTime":"2025-05-30T12:07:26.000000000+00:00"}';

export interface FakeDockerOptions {
  readonly engine: 'running' | 'stopped';
  /** What `docker buildx ls` prints, or 'missing' for a client without the plugin. */
  readonly buildx: string | 'missing';
}

/** Writes the fake `docker` into a new folder; returns the folder (for PATH) and the executable. */
export function fakeDocker(options: FakeDockerOptions): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const path = join(dir, 'docker');
  writeFileSync(join(dir, 'buildx-ls.txt'), options.buildx === 'missing' ? '' : `${options.buildx}\n`);
  const daemonDown = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
  const script = `#!/bin/sh
here=$(dirname "$0")
case "$1 $2" in
  "version --format")
    ${options.engine === 'running' ? `echo '{${CLIENT},${SERVER}}'; exit 0` : `echo '{${CLIENT},"Server":null}'; echo '${daemonDown}' >&2; exit 1`}
    ;;
  "buildx ls")
    ${options.buildx === 'missing' ? `printf "docker: unknown command: docker buildx\\n\\nRun 'docker --help' for more information\\n" >&2; exit 1` : 'cat "$here/buildx-ls.txt"; exit 0'}
    ;;
  *)
    echo "fake docker: unexpected arguments: $*" >&2; exit 125
    ;;
esac
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return { dir, path };
}
