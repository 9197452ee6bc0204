import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createStacks, stackName } from '../../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../../lib/config';
import { withCloudFormationValidation } from './cfn-validation';
import { type SynthVariant, TEST_RUN_VARIANTS } from './synth-variants';

const cdkJson = JSON.parse(readFileSync(join(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** The environments block of cdk.json, deep-copied so a test can edit it. */
export function cdkJsonEnvironments(): Record<string, Record<string, unknown>> {
  return JSON.parse(JSON.stringify(cdkJson.context[ENVIRONMENTS_CONTEXT_KEY]));
}

export interface SynthResult {
  readonly templates: Record<string, unknown>;
  readonly outdir: string;
  /** The synth's warning annotations, as `<construct path>: <message>`. */
  readonly warnings: string[];
}

export interface SynthOptions {
  /**
   * Bundle the Lambdas with esbuild, as `cdk synth` does. Tests that read only the template and
   * the asset manifest's images can turn it off to save seconds of CPU.
   * @default true
   */
  readonly bundleLambdas?: boolean;
}

const CACHE_ENV = 'PHENOM_TEST_SYNTH_CACHE';
const VARIANTS_CACHED_ENV = 'PHENOM_TEST_SYNTH_VARIANTS_CACHED';

/**
 * What a synth depends on besides the code: the environment, the environments block and the
 * bundling switch. The cache lives for one jest run (a fresh folder from its global setup), so
 * the code cannot change under it; these inputs are the rest of the key.
 */
function cacheKey(envName: string, envs: Record<string, unknown>, options: SynthOptions): string {
  return createHash('sha256')
    .update(JSON.stringify({ envName, envs, bundleLambdas: options.bundleLambdas !== false }))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Synthesizes one environment exactly as `cdk synth -c env=NAME` does (same
 * context, same createStacks, cdk-nag and CloudFormation validation included).
 * `environments` replaces the cdk.json environments block when given. Within a jest run,
 * a synth the global setup already did for the same inputs is read back instead.
 */
export function synthesize(envName: string, environments?: Record<string, unknown>, options: SynthOptions = {}): SynthResult {
  const envs = environments ?? cdkJsonEnvironments();
  const cached = cachedSynth(envName, envs, options);
  if (cached) return cached;
  const outdir = mkdtempSync(join(tmpdir(), 'phenom-chat-synth-'));
  const bundling = options.bundleLambdas === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  const app = new App({ outdir, context: { ...cdkJson.context, ...bundling, [ENVIRONMENTS_CONTEXT_KEY]: envs, env: envName } });
  const stacks = createStacks(app, loadConfig(envs, envName));
  const assembly = withCloudFormationValidation(() => app.synth());
  const templates: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const stack of stacks) {
    const artifact = assembly.getStackByName(stack.stackName);
    templates[stack.stackName] = artifact.template;
    for (const m of artifact.messages) if (m.level === 'warning') warnings.push(`${m.id}: ${String(m.entry.data)}`);
  }
  return { templates, outdir, warnings };
}

/** The global setup's synth of exactly these inputs in this jest run, if it did one. */
export function cachedSynth(envName: string, envs: Record<string, unknown>, options: SynthOptions = {}): SynthResult | undefined {
  const dir = process.env[CACHE_ENV];
  const file = dir && join(dir, `${cacheKey(envName, envs, options)}.json`);
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SynthResult) : undefined;
}

/** The inputs of a variant: cdk.json's environments block with the variant's edit applied. */
function variantInputs(variant: SynthVariant): [string, Record<string, unknown>, SynthOptions] {
  const envs = cdkJsonEnvironments();
  variant.edit(envs);
  return [variant.envName, envs, variant.options ?? {}];
}

/** Synthesizes a variant of cdk.json's config (test/support/synth-variants.ts). */
export function synthesizeVariant(variant: SynthVariant): SynthResult {
  return synthesize(...variantInputs(variant));
}

/**
 * Called once by the jest global setup: synthesizes both environments and (unless `variants` is
 * false) the shared variants into a fresh cache folder, keyed by their inputs, with each one's
 * policy-validation report. A variant not in the cache is synthesized by the file that asks for it.
 */
export function synthesizeForTestRun(options: { variants: boolean } = { variants: true }): void {
  const dir = mkdtempSync(join(tmpdir(), 'phenom-chat-templates-'));
  const asConfigured = Object.keys(cdkJsonEnvironments()).map((envName) => ({ envName, edit: () => undefined }) as SynthVariant);
  for (const variant of [...asConfigured, ...(options.variants ? TEST_RUN_VARIANTS : [])]) {
    const inputs = variantInputs(variant);
    const key = cacheKey(...inputs);
    const result = synthesize(...inputs);
    writeFileSync(join(dir, `${key}.json`), JSON.stringify(result));
    const report = join(result.outdir, 'validation-report.json');
    writeFileSync(join(dir, `${key}.validation.json`), existsSync(report) ? readFileSync(report) : '{"pluginReports":[]}');
  }
  process.env[CACHE_ENV] = dir;
  process.env[VARIANTS_CACHED_ENV] = options.variants ? '1' : '0';
}

/** Whether the global setup synthesized the shared variants too (it does for a whole run only). */
export const variantsCached = (): boolean => process.env[VARIANTS_CACHED_ENV] === '1';

/**
 * The template of an environment's stack from the cdk.json config, synthesized
 * once per test run by the global setup (synth takes seconds; most infra tests only read).
 */
export function stackTemplate(envName: 'development' | 'production'): Template {
  const name = stackName(loadConfig(cdkJsonEnvironments(), envName));
  return Template.fromJSON(synthesize(envName).templates[name] as Record<string, unknown>);
}

/** The shared synth of an environment's cdk.json config, which must be the global setup's. */
function sharedSynthKey(envName: string, what: string): string {
  const dir = process.env[CACHE_ENV];
  if (!dir) throw new Error(`${what} needs the jest global setup`);
  return join(dir, cacheKey(envName, cdkJsonEnvironments(), {}));
}

/** The cloud assembly folder (cdk.out) of an environment's shared synth, for tests that read its asset manifest or staged assets. */
export function assemblyDir(envName: 'development' | 'production'): string {
  return (JSON.parse(readFileSync(`${sharedSynthKey(envName, 'assemblyDir')}.json`, 'utf8')) as SynthResult).outdir;
}

/** The policy-validation report (cdk-nag, CloudFormation Validate) of an environment's synth. */
export function validationReport(envName: 'development' | 'production'): ValidationReport {
  return JSON.parse(readFileSync(`${sharedSynthKey(envName, 'validationReport')}.validation.json`, 'utf8')) as ValidationReport;
}

export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly conclusion?: string;
    readonly violations: Array<{ readonly ruleName: string; readonly violatingConstructs?: Array<{ constructPath: string }> }>;
    readonly suppressedViolations?: Array<{ readonly ruleName: string; readonly acknowledgedId?: string; readonly reason?: string }>;
  }>;
}
