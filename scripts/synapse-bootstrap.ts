/**
 * Bootstraps a homeserver with exactly the code the deploy-time custom resource
 * runs (lambda/synapse-bootstrap/bootstrap.ts): registers the admin bot with the
 * shared secret, creates the three rooms and sets their power levels. Re-running
 * changes nothing.
 *
 *   npm run synapse:bootstrap -- --url http://127.0.0.1:8008 --shared-secret '…'
 *   SYNAPSE_SHARED_SECRET=… npm run synapse:bootstrap -- --url … [--bot-password …] [--state-file PATH]
 *
 * The bot's password (generated on the first run unless given) and its access
 * token are kept in the state file (mode 0600), so the next run finds the bot.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BotCredentials, bootstrapSynapse, CredentialStore } from '../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient } from '../chat-clients/matrix-client';
import { parseScriptArgs, runMain } from './cli';

const USAGE =
  'usage: npm run synapse:bootstrap -- --url http://host:8008 --shared-secret SECRET [--bot-localpart phenom-bot] [--bot-password PW] [--state-file PATH]\n' +
  '       (SYNAPSE_URL and SYNAPSE_SHARED_SECRET may be given in the environment instead)';

interface StateFile {
  botPassword?: string;
  credentials?: BotCredentials;
}

function readState(path: string): StateFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read the state file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function writeState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseScriptArgs<{ url?: string; 'shared-secret'?: string; 'bot-localpart'?: string; 'bot-password'?: string; 'state-file'?: string }>(
    argv,
    {
      url: { type: 'string' },
      'shared-secret': { type: 'string' },
      'bot-localpart': { type: 'string' },
      'bot-password': { type: 'string' },
      'state-file': { type: 'string' },
    },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const url = values.url ?? env.SYNAPSE_URL;
  const sharedSecret = values['shared-secret'] ?? env.SYNAPSE_SHARED_SECRET;
  if (!url || !sharedSecret) {
    console.error(`--url and --shared-secret are required.\n${USAGE}`);
    return 2;
  }
  if (!/^https?:\/\/[^/]+/.test(url)) {
    console.error(`--url must be an http(s) URL such as http://127.0.0.1:8008, got ${url}\n${USAGE}`);
    return 2;
  }
  const host = new URL(url).host.replace(/[^A-Za-z0-9.-]/g, '_');
  const statePath = values['state-file'] ?? join(homedir(), '.phenom-chat', `synapse-bootstrap-${host}.json`);

  try {
    const state = readState(statePath);
    const botPassword = values['bot-password'] ?? state.botPassword ?? randomBytes(24).toString('base64url');
    if (state.botPassword !== botPassword) writeState(statePath, { ...state, botPassword });
    const store: CredentialStore = {
      load: async () => readState(statePath).credentials,
      save: async (credentials) => writeState(statePath, { ...readState(statePath), credentials }),
    };
    const result = await bootstrapSynapse({
      client: new MatrixClient({ baseUrl: url }),
      sharedSecret,
      bot: { localpart: values['bot-localpart'] ?? 'phenom-bot', password: botPassword, displayName: 'Phenom Chat Bot' },
      store,
    });
    console.log(`bot ${result.botUserId} (${result.botSession}); state in ${statePath}`);
    for (const room of result.rooms) {
      console.log(`${room.created ? 'created ' : room.updated.length ? 'updated ' : 'ok      '} ${room.alias} ${room.roomId}${room.updated.length ? ` (${room.updated.join(', ')})` : ''}`);
    }
    return 0;
  } catch (err) {
    console.error(`synapse:bootstrap failed on ${url}: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
