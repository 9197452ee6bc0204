import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatConfig, ConfigError, configFromContextValues, DEFAULT_ENV, ENV_CONTEXT_KEY, ENVIRONMENTS_CONTEXT_KEY } from '../lib/config';

/** The repository root (cdk.json lives there). */
export const REPO_ROOT = join(__dirname, '..');

/** A mistake in how the script was called: the caller prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** `-c key=value` flags, as the cdk CLI takes them, into a context object. */
export function parseContextFlags(flags: readonly string[] = []): Record<string, string> {
  const context: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`-c expects key=value (as cdk does, e.g. -c env=production), got "${flag}"`);
    context[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return context;
}

export interface DeployTarget {
  /** cdk.json's context with the `-c` flags on top: what `cdk deploy` synthesizes with. */
  readonly context: Record<string, unknown>;
  readonly config: ChatConfig;
}

/**
 * The config `cdk deploy -c …` would deploy, read from cdk.json exactly as bin/ reads it.
 * An unknown environment is a UsageError; an invalid config throws the ConfigError synth would.
 */
export function loadDeployTarget(contextFlags: readonly string[], cdkJsonPath = join(REPO_ROOT, 'cdk.json')): DeployTarget {
  const cdkJson = JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: Record<string, unknown> };
  const context: Record<string, unknown> = { ...cdkJson.context, ...parseContextFlags(contextFlags) };
  const environments = context[ENVIRONMENTS_CONTEXT_KEY];
  const envName = String(context[ENV_CONTEXT_KEY] ?? DEFAULT_ENV);
  if (environments && typeof environments === 'object' && !(envName in environments)) {
    throw new UsageError(`unknown environment "${envName}"; cdk.json has ${Object.keys(environments).join(', ')} (pick one with -c env=NAME)`);
  }
  // The same reading as bin/'s synth: every environment validated, typos of context keys refused.
  return { context, config: configFromContextValues(context) };
}

/**
 * Runs a script's argument and config checks: a UsageError prints with the usage and becomes exit
 * code 2, a ConfigError prints as synth would report it and becomes 1; anything else is a bug and throws.
 */
export function checkedOrExitCode<T>(check: () => T, usage: string): { value: T } | { exitCode: number } {
  try {
    return { value: check() };
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${usage}`);
      return { exitCode: 2 };
    }
    if (err instanceof ConfigError) {
      console.error(`Invalid phenom-chat configuration:\n${err.message}`);
      return { exitCode: 1 };
    }
    throw err;
  }
}
