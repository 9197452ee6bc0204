import { parseArgs } from 'node:util';
import { z } from 'zod';

/** What `npm run local -- …` was asked for. */
export interface LocalOptions {
  /** Loopback port of the MCP server (PORT, default 3001). */
  port: number;
  /** Agent identities: one app client id and token each, so each has a rate-limit bucket of its own. */
  agents: number;
  /** AUTH_MODE=none: no tokens at all (the official conformance suite sends none). */
  noAuth: boolean;
  /** The server's per-agent token bucket (RATE_LIMIT_PER_MINUTE / RATE_LIMIT_BURST; production's defaults). */
  rateLimitPerMinute: number;
  rateLimitBurst: number;
}

export const USAGE = `usage: npm run local [-- options]

  --agents N                  agent identities, each with its own client id, token and rate-limit
                              bucket (default 1; tokens printed as MCP_TOKEN, MCP_TOKEN_2 … MCP_TOKEN_N)
  --rate-limit-per-minute N   each agent's sustained requests per minute (default 600, as deployed)
  --rate-limit-burst N        each agent's burst (default 60, as deployed)
  --no-auth                   serve without tokens, every caller being the one agent (loopback only)
  --help                      this text

environment: PORT (default 3001), LOG_LEVEL (default info), RATE_LIMIT_PER_MINUTE, RATE_LIMIT_BURST`;

/** A usage mistake: printed with USAGE, exit status 2, before anything is started. */
export class UsageError extends Error {}

// 1000 agents is far past any load a laptop serves, and keeps the printed token list bounded.
const MAX_AGENTS = 1000;
const count = (name: string, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(1, `${name} must be at least 1`).max(max, `${name} may be at most ${max}`));

const Schema = z.object({
  port: count('PORT', 65_535),
  agents: count('--agents', MAX_AGENTS),
  noAuth: z.boolean(),
  rateLimitPerMinute: count('--rate-limit-per-minute'),
  rateLimitBurst: count('--rate-limit-burst'),
});

/** Parses argv (without node and the script) and the environment; throws UsageError naming the mistake. */
export function parseLocalOptions(argv: string[], env: NodeJS.ProcessEnv): LocalOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        agents: { type: 'string' },
        'rate-limit-per-minute': { type: 'string' },
        'rate-limit-burst': { type: 'string' },
        'no-auth': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const parsed = Schema.safeParse({
    port: env.PORT ?? '3001',
    agents: values.agents ?? '1',
    noAuth: values['no-auth'] ?? false,
    rateLimitPerMinute: values['rate-limit-per-minute'] ?? env.RATE_LIMIT_PER_MINUTE ?? '600',
    rateLimitBurst: values['rate-limit-burst'] ?? env.RATE_LIMIT_BURST ?? '60',
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  if (parsed.data.noAuth && values.agents !== undefined) throw new UsageError('--agents gives each agent a token; with --no-auth there are none');
  return parsed.data;
}

/** The client id of agent `i` (1-based): the first keeps local mode's original `local-agent`. */
export const agentClientId = (i: number): string => (i === 1 ? 'local-agent' : `local-agent-${i}`);
