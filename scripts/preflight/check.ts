import type { ChatConfig } from '../../lib/config';
import type { AwsClients } from '../aws/clients';
import { awsErrorFix } from '../aws/errors';
import type { AssemblyFacts } from './synth';

/** What the checks read, and what earlier checks leave for later ones. */
export interface PreflightContext {
  readonly config: ChatConfig;
  /** The context `cdk deploy` synthesizes with (cdk.json plus the -c flags). */
  readonly context: Record<string, unknown>;
  readonly aws: AwsClients;
  /** The docker executable (`--docker`, else CDK_DOCKER as the CDK CLI reads it, else `docker`). */
  readonly docker: string;
  /** An already synthesized cloud assembly to read instead of synthesizing (`--app cdk.out`). */
  readonly appDir?: string;
  /** The CDK bootstrap stack's name (`cdk bootstrap --toolkit-stack-name`; default CDKToolkit). */
  readonly toolkitStackName: string;
  /** Set by the synth check. */
  assembly?: AssemblyFacts;
  /** The account the credentials belong to; set by the credentials check. */
  account?: string;
}

/** A check failed; the message says what to do about it. */
export class CheckFailed extends Error {}

export interface Check {
  readonly name: string;
  /** What the check asks AWS, for the sentence an unexpected AWS error becomes ("describe the VPC"). */
  readonly doing: string;
  /** Checks that must pass first; when one did not, this one is skipped. */
  readonly needs?: readonly string[];
  /** Whether the config has anything for this check (import-mode checks only in import mode). */
  readonly applies?: (config: ChatConfig) => boolean;
  /** Resolves to what was found (printed after `ok`); throws CheckFailed with the fix. */
  run(ctx: PreflightContext): Promise<string>;
}

export type CheckResult =
  | { readonly name: string; readonly status: 'ok'; readonly detail: string }
  | { readonly name: string; readonly status: 'fail'; readonly fix: string }
  | { readonly name: string; readonly status: 'skip'; readonly reason: string };

export function formatResult(r: CheckResult): string {
  if (r.status === 'ok') return `ok   ${r.name}: ${r.detail}`;
  if (r.status === 'fail') return `FAIL ${r.name}: ${r.fix}`;
  return `skip ${r.name}: ${r.reason}`;
}

/**
 * Runs the checks that apply, in order, one at a time (their output reads top to bottom like
 * the deploy they stand for). A check whose prerequisite did not pass is skipped rather than run
 * into the same failure again. `onResult` sees each result as it is known.
 */
export async function runChecks(checks: readonly Check[], ctx: PreflightContext, onResult: (r: CheckResult) => void = () => undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const passed = new Set<string>();
  for (const check of checks) {
    if (check.applies && !check.applies(ctx.config)) continue;
    const blocked = (check.needs ?? []).filter((n) => !passed.has(n));
    let result: CheckResult;
    if (blocked.length) {
      result = { name: check.name, status: 'skip', reason: `needs ${blocked.join(' and ')}, which did not pass` };
    } else {
      try {
        result = { name: check.name, status: 'ok', detail: await check.run(ctx) };
        passed.add(check.name);
      } catch (err) {
        result = { name: check.name, status: 'fail', fix: err instanceof CheckFailed ? err.message : awsErrorFix(err, check.doing) };
      }
    }
    results.push(result);
    onResult(result);
  }
  return results;
}

/** The region of an ARN (`arn:aws:<service>:<region>:<account>:…`). */
export const arnRegion = (arn: string): string => arn.split(':')[3];
/** The account of an ARN. */
export const arnAccount = (arn: string): string => arn.split(':')[4];
