import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENVIRONMENTS_CONTEXT_KEY } from '../../lib/config';

/**
 * Writes a copy of the repository's cdk.json whose environments block is `environments`, for
 * scripts that read cdk.json themselves (`npm run preflight`, `npm run dns-records`). Returns its path.
 */
export function writeCdkJson(environments: Record<string, unknown>): string {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const path = join(mkdtempSync(join(tmpdir(), 'phenom-cdk-json-')), 'cdk.json');
  writeFileSync(path, JSON.stringify({ ...cdkJson, context: { ...cdkJson.context, [ENVIRONMENTS_CONTEXT_KEY]: environments } }));
  return path;
}
