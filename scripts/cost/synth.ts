import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createStacks } from '../../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, ENV_CONTEXT_KEY, loadConfig } from '../../lib/config';
import type { CfnTemplate } from './estimate';

/** cdk.json's context. */
export function cdkContext(root: string = join(__dirname, '..', '..')): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

/** The environments a script's `--env NAME` flag selects (all of cdk.json's without it); refuses an unknown name. */
export function selectedEnvironments(context: Record<string, unknown>, argv: readonly string[]): string[] {
  const environments = Object.keys(context[ENVIRONMENTS_CONTEXT_KEY] as Record<string, unknown>);
  const envFlag = argv.indexOf('--env');
  const wanted = envFlag >= 0 ? [argv[envFlag + 1]] : environments;
  for (const envName of wanted) if (!envName || !environments.includes(envName)) throw new Error(`--env: expected one of ${environments.join(', ')}`);
  return wanted as string[];
}

/** `overrides` laid over `base` key by key (objects merge, anything else replaces). */
export function mergeConfig(base: unknown, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    const bothObjects = value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current);
    out[key] = bothObjects ? mergeConfig(current, value as Record<string, unknown>) : value;
  }
  return out;
}

/**
 * One environment's template, synthesized fresh exactly as `cdk synth -c env=NAME` would, in a throwaway outdir;
 * `overrides` (config keys, as in cdk.json) are laid over the environment's config first, as a cost tier does.
 */
export function synthesizedTemplate(context: Record<string, unknown>, envName: string, overrides?: Record<string, unknown>): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'phenom-chat-cost-'));
  try {
    const environments = context[ENVIRONMENTS_CONTEXT_KEY] as Record<string, unknown>;
    const withOverrides = overrides ? { ...environments, [envName]: mergeConfig(environments[envName], overrides) } : environments;
    // Prices come from resource properties, never from Lambda code: skip bundling (what `cdk synth --exclusively`
    // does for stacks it does not deploy), which is most of a synth's time.
    const app = new App({ outdir, context: { ...context, [ENVIRONMENTS_CONTEXT_KEY]: withOverrides, [ENV_CONTEXT_KEY]: envName, 'aws:cdk:bundling-stacks': [] } });
    const [stack] = createStacks(app, loadConfig(withOverrides, envName));
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
