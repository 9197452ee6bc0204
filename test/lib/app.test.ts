import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createStacks } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import { cdkJsonEnvironments, stackTemplate, validationReport } from '../support/synth';

const ROOT = join(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** Runs bin/ exactly as the cdk CLI does, with the context the CLI would pass. */
function runApp(context: Record<string, unknown>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/phenom-chat.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: join(ROOT, 'cdk.out', 'test-invalid') },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe.each(['development', 'production'] as const)('the %s stack', (env) => {
  it('synthesizes with no unacknowledged cdk-nag or CloudFormation Validate finding', () => {
    const report = validationReport(env);
    const open = report.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName}: ${v.ruleName} at ${v.violatingConstructs?.map((c) => c.constructPath).join(', ')}`));
    expect(open).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    for (const plugin of validationReport(env).pluginReports) {
      for (const s of plugin.suppressedViolations ?? []) {
        expect({ rule: s.acknowledgedId ?? s.ruleName, reasonLength: (s.reason ?? '').length >= 40 }).toEqual({ rule: s.acknowledgedId ?? s.ruleName, reasonLength: true });
      }
    }
  });

  it('matches its snapshot (asset hashes scrubbed)', () => {
    expect(stackTemplate(env).toJSON()).toMatchSnapshot();
  });
});

describe('createStacks', () => {
  it('runs the cdk-nag AwsSolutions checks on every synth, failing on an unacknowledged finding', () => {
    const envs = cdkJsonEnvironments();
    // Only cdk-nag is under test here: the CloudFormation validator (7 s) and Lambda bundling (esbuild
    // for every function) would add CPU for nothing, since cdk-nag reads neither.
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'nag-')),
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], env: 'development' },
      builtinCloudFormationValidation: false,
    });
    const [stack] = createStacks(app, loadConfig(envs, 'development'));
    // A bucket with no access logs, no TLS-only policy: AwsSolutions-S1 and S10.
    new s3.Bucket(stack, 'NonCompliantBucket', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/NonCompliantBucket\/Resource[\s\S]*AwsSolutions-S1'/);
  });
});

describe('bin/phenom-chat.ts', () => {
  it('fails synth with a message naming a malformed key', () => {
    const envs = cdkJsonEnvironments();
    envs.development.database = { mode: 'create', instanceClass: 'm5.large' };
    const result = runApp({ 'phenom-chat:environments': envs, env: 'development' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid phenom-chat configuration');
    expect(result.stderr).toContain('phenom-chat:environments.development.database.instanceClass: expected an RDS instance class such as db.m5.large');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a config mistake is not a crash: no stack trace
  });

  it('fails synth for a production environment with no way to get a certificate', () => {
    const envs = cdkJsonEnvironments();
    delete envs.production.certificate;
    const result = runApp({ 'phenom-chat:environments': envs, env: 'production' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('production.certificate: a production environment needs a way to get its TLS certificate');
  });
});
