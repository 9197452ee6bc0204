import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(path: string): string[] {
  return readFileSync(path, 'utf8')
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

const DOCKER = join(__dirname, '../../../docker');

describe.each([
  [
    'synapse',
    /^FROM matrixdotorg\/synapse:v\d+\.\d+\.\d+$/,
    'USER 991:991',
    'HEALTHCHECK --start-period=60s --interval=30s --timeout=5s --retries=3 CMD curl -fSs http://localhost:8008/health || exit 1',
  ],
  [
    'synapse-admin',
    /^FROM awesometechnologies\/synapse-admin:\d+\.\d+\.\d+$/,
    'USER nginx',
    'HEALTHCHECK --start-period=30s --interval=30s --timeout=5s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1/ || exit 1',
  ],
  [
    'synapse-edge',
    /^FROM nginx:\d+\.\d+\.\d+-alpine$/,
    'USER nginx',
    'HEALTHCHECK --start-period=10s --interval=30s --timeout=5s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8008/synapse-edge/health || exit 1',
  ],
])('docker/%s/Dockerfile', (name, from, user, healthcheck) => {
  const lines = instructions(join(DOCKER, name, 'Dockerfile'));

  it('builds FROM a pinned release tag', () => {
    expect(lines.filter((l) => l.startsWith('FROM '))).toEqual([expect.stringMatching(from)]);
  });

  it('runs as a non-root user (the last USER instruction)', () => {
    expect(lines.filter((l) => l.startsWith('USER ')).pop()).toBe(user);
  });

  it('has the seed health check', () => {
    expect(lines.filter((l) => l.startsWith('HEALTHCHECK '))).toEqual([healthcheck]);
  });

  it('ships only the files its .dockerignore lets through, and they exist', () => {
    const allowed = readFileSync(join(DOCKER, name, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    const copied = lines.filter((l) => /^COPY (--chmod=\d+ )?[^-]/.test(l)).map((l) => l.split(' ').slice(-2)[0]);
    for (const file of copied) expect(allowed).toContain(file);
    for (const file of allowed) expect(() => readFileSync(join(DOCKER, name, file))).not.toThrow();
  });
});

describe('docker/synapse/Dockerfile entrypoint', () => {
  const lines = instructions(join(DOCKER, 'synapse', 'Dockerfile'));
  it('renders the config with render-config.py, then runs the stock /start.py', () => {
    expect(lines).toContain('ENTRYPOINT ["/usr/local/bin/render-config.py"]');
    expect(lines).toContain('CMD ["/start.py"]');
    expect(lines).toContain('COPY --chmod=0755 render-config.py /usr/local/bin/render-config.py');
    expect(lines.some((l) => /^RUN pip install --no-cache-dir synapse-s3-storage-provider==\d+\.\d+\.\d+$/.test(l))).toBe(true);
  });
});
