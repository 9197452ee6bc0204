/**
 * `npm run docs:config`: rewrites README.md's configuration reference from lib/config
 * (`npm run docs:config -- --check` only reports whether it is current, exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigReference } from '../lib/config/reference';
import { parseScriptArgs } from './cli';

const USAGE = 'usage: npm run docs:config [-- --check]';
const parsed = parseScriptArgs<{ check?: boolean }>(process.argv.slice(2), { check: { type: 'boolean' } }, USAGE);
if ('exitCode' in parsed) process.exit(parsed.exitCode);

const readmePath = join(__dirname, '..', 'README.md');
const current = readFileSync(readmePath, 'utf8');
const next = withConfigReference(current);
if (parsed.values.check) {
  console.log(next === current ? 'README.md configuration reference is current' : 'README.md configuration reference is stale: run npm run docs:config');
  process.exit(next === current ? 0 : 1);
}
writeFileSync(readmePath, next);
console.log(next === current ? 'README.md configuration reference was already current' : 'README.md configuration reference rewritten');
