import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createStacks } from '../../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, ENV_CONTEXT_KEY, loadConfig } from '../../lib/config';
import type { CfnTemplate } from './estimate';

/** One environment's template, synthesized fresh exactly as `cdk synth -c env=NAME` would, in a throwaway outdir. */
export function synthesizedTemplate(context: Record<string, unknown>, envName: string): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'phenom-chat-cost-'));
  try {
    // Prices come from resource properties, never from Lambda code: skip bundling (what `cdk synth --exclusively`
    // does for stacks it does not deploy), which is most of a synth's time.
    const app = new App({ outdir, context: { ...context, [ENV_CONTEXT_KEY]: envName, 'aws:cdk:bundling-stacks': [] } });
    const [stack] = createStacks(app, loadConfig(context[ENVIRONMENTS_CONTEXT_KEY], envName));
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
