// The container health check: healthy while the last complete cycle (scrape, and publish when there was
// anything to publish) is at most three intervals old. Non-essential, so an unhealthy sidecar only shows
// in ECS; it never stops Synapse's task.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { readConfig } from './config.mjs';

let code;
try {
  const config = readConfig();
  const { at } = JSON.parse(readFileSync(config.heartbeatFile, 'utf8'));
  code = Date.now() - Date.parse(at) <= 3 * config.intervalMs ? 0 : 1;
} catch {
  code = 1;
}
process.exit(code);
