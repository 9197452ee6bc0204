/**
 * `npm run edge:conf`: rewrites docker/synapse-edge/client-ip.cloudflare.conf from chat-domain's list of
 * Cloudflare's ranges (`npm run edge:conf -- --check` only reports whether it is current, exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOUDFLARE_CLIENT_IP_CONF_PATH, cloudflareClientIpConf } from '../lib/chat-synapse/edge-client-ip-conf';
import { parseScriptArgs } from './cli';

const USAGE = 'usage: npm run edge:conf [-- --check]';
const parsed = parseScriptArgs<{ check?: boolean }>(process.argv.slice(2), { check: { type: 'boolean' } }, USAGE);
if ('exitCode' in parsed) process.exit(parsed.exitCode);

const path = join(__dirname, '..', CLOUDFLARE_CLIENT_IP_CONF_PATH);
const current = readFileSync(path, 'utf8');
const next = cloudflareClientIpConf();
if (parsed.values.check) {
  console.log(next === current ? `${CLOUDFLARE_CLIENT_IP_CONF_PATH} is current` : `${CLOUDFLARE_CLIENT_IP_CONF_PATH} is stale: run npm run edge:conf`);
  process.exit(next === current ? 0 : 1);
}
writeFileSync(path, next);
console.log(next === current ? `${CLOUDFLARE_CLIENT_IP_CONF_PATH} was already current` : `${CLOUDFLARE_CLIENT_IP_CONF_PATH} rewritten`);
