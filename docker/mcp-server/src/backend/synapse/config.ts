import { CHAT_ROOM_DEFINITIONS } from '../../../../../chat-domain/rooms';

/** The environment the synapse backend reads (ECS fills the bot token from Secrets Manager). */
export interface SynapseBackendConfig {
  /** Homeserver base URL, e.g. http://homeserver.synapse.phenom-development.internal:8008 */
  readonly homeserverUrl: string;
  readonly accessToken: string;
  readonly serverName: string;
  /** Full aliases of the chat rooms, e.g. #internal:chat.example.com */
  readonly roomAliases: string[];
}

/** The rooms the Synapse bootstrap creates (#internal, #partners, #community). */
export const DEFAULT_ROOM_ALIASES: readonly string[] = CHAT_ROOM_DEFINITIONS.map((r) => r.alias);

/**
 * Reads SYNAPSE_URL, SYNAPSE_BOT_ACCESS_TOKEN, MATRIX_SERVER_NAME and optionally
 * MATRIX_ROOM_ALIASES (comma-separated localparts or full aliases; default internal,partners,community).
 * Throws one error naming every missing or bad key, never echoing the token.
 */
export function synapseBackendConfig(env: NodeJS.ProcessEnv): SynapseBackendConfig {
  const problems: string[] = [];
  const homeserverUrl = env.SYNAPSE_URL?.trim().replace(/\/+$/, '') ?? '';
  if (!homeserverUrl) problems.push('SYNAPSE_URL is required for BACKEND_TYPE=synapse');
  else if (!/^https?:\/\/[^\s/]+/.test(homeserverUrl)) problems.push('SYNAPSE_URL must be an http(s) URL such as http://synapse.internal:8008');
  const accessToken = env.SYNAPSE_BOT_ACCESS_TOKEN?.trim() ?? '';
  if (!accessToken) problems.push('SYNAPSE_BOT_ACCESS_TOKEN is required for BACKEND_TYPE=synapse (the admin bot token the Synapse bootstrap stores)');
  const serverName = env.MATRIX_SERVER_NAME?.trim() ?? '';
  if (!serverName) problems.push('MATRIX_SERVER_NAME is required for BACKEND_TYPE=synapse (the part after the colon in #room:server)');
  const aliases = (env.MATRIX_ROOM_ALIASES ?? DEFAULT_ROOM_ALIASES.join(','))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (!aliases.length) problems.push('MATRIX_ROOM_ALIASES must list at least one room alias');
  const bad = aliases.filter((a) => !/^#?[^\s:#]+(:[^\s:]+)?$/.test(a));
  if (bad.length) problems.push(`MATRIX_ROOM_ALIASES has invalid entries: ${bad.join(', ')}`);
  if (problems.length) throw new Error(`invalid synapse backend configuration:\n  ${problems.join('\n  ')}`);
  const roomAliases = aliases.map((a) => {
    const local = a.replace(/^#/, '');
    return local.includes(':') ? `#${local}` : `#${local}:${serverName}`;
  });
  return { homeserverUrl, accessToken, serverName, roomAliases };
}
