import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIDECAR_DIR } from './support';

const dockerfile = readFileSync(join(SIDECAR_DIR, 'Dockerfile'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, Record<string, string>>>;

describe('docker/synapse-metrics image', () => {
  it('runs, as the node user, the files the tests run, with the dependencies of its own lock file', () => {
    expect(dockerfile.filter((l) => /^(FROM|USER|CMD|COPY|RUN) /.test(l))).toEqual([
      expect.stringMatching(/^FROM node:\d+\.\d+\.\d+-bookworm-slim$/),
      'COPY package.json package-lock.json ./',
      'RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force',
      'COPY src src',
      'USER node',
      'CMD ["node", "src/main.mjs"]',
    ]);
  });

  it("locks the CloudWatch client at the repository's version, the one the tests load from the root node_modules", () => {
    const locked = json(join(SIDECAR_DIR, 'package-lock.json')).packages['node_modules/@aws-sdk/client-cloudwatch'].version;
    const root = json(join(SIDECAR_DIR, '../../node_modules/@aws-sdk/client-cloudwatch/package.json')).version as unknown as string;
    expect(json(join(SIDECAR_DIR, 'package.json')).dependencies['@aws-sdk/client-cloudwatch']).toBe(locked);
    expect(locked).toBe(root);
  });
});
