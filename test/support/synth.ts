import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createStacks, stackName } from '../../lib/app';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../../lib/config';
import { withCloudFormationValidation } from './cfn-validation';

const cdkJson = JSON.parse(readFileSync(join(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** The environments block of cdk.json, deep-copied so a test can edit it. */
export function cdkJsonEnvironments(): Record<string, Record<string, unknown>> {
  return JSON.parse(JSON.stringify(cdkJson.context[ENVIRONMENTS_CONTEXT_KEY]));
}

export interface SynthResult {
  readonly app: App;
  readonly templates: Record<string, unknown>;
  readonly outdir: string;
}

export interface SynthOptions {
  /**
   * Bundle the Lambdas with esbuild, as `cdk synth` does. Tests that read only the template and
   * the asset manifest's images can turn it off to save seconds of CPU.
   * @default true
   */
  readonly bundleLambdas?: boolean;
}

/**
 * Synthesizes one environment exactly as `cdk synth -c env=NAME` does (same
 * context, same createStacks, cdk-nag included). `environments` replaces the
 * cdk.json environments block when given.
 */
export function synthesize(envName: string, environments?: Record<string, unknown>, options: SynthOptions = {}): SynthResult {
  const envs = environments ?? cdkJsonEnvironments();
  const outdir = mkdtempSync(join(tmpdir(), 'phenom-chat-synth-'));
  const bundling = options.bundleLambdas === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  const app = new App({ outdir, context: { ...cdkJson.context, ...bundling, [ENVIRONMENTS_CONTEXT_KEY]: envs, env: envName } });
  const stacks = createStacks(app, loadConfig(envs, envName));
  const assembly = withCloudFormationValidation(() => app.synth());
  const templates: Record<string, unknown> = {};
  for (const stack of stacks) templates[stack.stackName] = assembly.getStackByName(stack.stackName).template;
  return { app, templates, outdir };
}

const CACHE_ENV = 'PHENOM_TEST_SYNTH_CACHE';

/** Called once by the jest global setup: synthesizes both environments into a cache folder. */
export function synthesizeForTestRun(): void {
  const dir = mkdtempSync(join(tmpdir(), 'phenom-chat-templates-'));
  for (const envName of Object.keys(cdkJsonEnvironments())) {
    const { templates, outdir } = synthesize(envName);
    writeFileSync(join(dir, `${envName}.json`), JSON.stringify(templates));
    writeFileSync(join(dir, `${envName}.outdir`), outdir);
    const report = join(outdir, 'validation-report.json');
    writeFileSync(join(dir, `${envName}.validation.json`), existsSync(report) ? readFileSync(report) : '{"pluginReports":[]}');
  }
  process.env[CACHE_ENV] = dir;
}

/**
 * The template of an environment's stack from the cdk.json config, synthesized
 * once per test run by the global setup (synth takes seconds; most infra tests only read).
 */
export function stackTemplate(envName: 'development' | 'production'): Template {
  const dir = process.env[CACHE_ENV];
  const envs = cdkJsonEnvironments();
  const name = stackName(loadConfig(envs, envName));
  if (dir) {
    const templates = JSON.parse(readFileSync(join(dir, `${envName}.json`), 'utf8')) as Record<string, Record<string, unknown>>;
    return Template.fromJSON(templates[name]);
  }
  return Template.fromJSON(synthesize(envName).templates[name] as Record<string, unknown>);
}

/** The cloud assembly folder (cdk.out) of an environment's shared synth, for tests that read its asset manifest or staged assets. */
export function assemblyDir(envName: 'development' | 'production'): string {
  const dir = process.env[CACHE_ENV];
  if (!dir) throw new Error('assemblyDir needs the jest global setup');
  return readFileSync(join(dir, `${envName}.outdir`), 'utf8');
}

/** The policy-validation report (cdk-nag, CloudFormation Validate) of an environment's synth. */
export function validationReport(envName: 'development' | 'production'): ValidationReport {
  const dir = process.env[CACHE_ENV];
  if (!dir) throw new Error('validationReport needs the jest global setup');
  return JSON.parse(readFileSync(join(dir, `${envName}.validation.json`), 'utf8')) as ValidationReport;
}

export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly conclusion?: string;
    readonly violations: Array<{ readonly ruleName: string; readonly violatingConstructs?: Array<{ constructPath: string }> }>;
    readonly suppressedViolations?: Array<{ readonly ruleName: string; readonly acknowledgedId?: string; readonly reason?: string }>;
  }>;
}
