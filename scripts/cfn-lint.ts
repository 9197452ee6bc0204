/**
 * Runs the AWS CloudFormation linter (cfn-lint, a Python tool installed on the build machines, not an
 * npm package) on each environment's synthesized templates and gates on the result: no error-level
 * finding and no W3691, except what scripts/cfn-lint/exceptions.json lists with its reason.
 *
 *   npx cdk synth -q -c env=development --output cdk.out/development   (and production)
 *   npm run cfn-lint [-- --dir cdk.out/development --dir cdk.out/production]
 *
 * Without cfn-lint on PATH it says so and exits 0, so a machine without it can still run the
 * README's commands; under CI=true (where it is installed) a missing cfn-lint fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseScriptArgs } from './cli';
import { CfnLintFinding, gate, parseExceptions } from './cfn-lint/gate';

const ROOT = join(__dirname, '..');
const USAGE = 'usage: npm run cfn-lint -- [--dir cdk.out/<env>]...  (default: cdk.out/development and cdk.out/production)';
const EXCEPTIONS_FILE = join(__dirname, 'cfn-lint', 'exceptions.json');
// cfn-lint takes about 10 s of CPU on one production template; this is a generous bound for a stuck run.
const LINT_TIMEOUT_MS = 10 * 60_000;

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseScriptArgs<{ dir?: string[] }>(argv, { dir: { type: 'string', multiple: true } }, USAGE);
  if ('exitCode' in parsed) return parsed.exitCode;
  const dirs = parsed.values.dir ?? ['cdk.out/development', 'cdk.out/production'].map((d) => join(ROOT, d));

  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8', env });
  if (version.error || version.status !== 0) {
    if (env.CI === 'true') {
      console.error('cfn-lint: not found on PATH. CI machines have it installed (pip install cfn-lint); the gate cannot run without it.');
      return 1;
    }
    console.log('cfn-lint: not found on PATH, so the CloudFormation lint gate was skipped (install it with `pip install cfn-lint`).');
    return 0;
  }

  let exceptions;
  try {
    exceptions = parseExceptions(JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8')));
  } catch (err) {
    console.error(`cfn-lint: ${relative(ROOT, EXCEPTIONS_FILE)}: ${(err as Error).message}`);
    return 1;
  }

  let failed = false;
  const used = exceptions.map(() => 0);
  for (const dir of dirs) {
    const files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.template.json'))
          .map((f) => join(dir, f))
      : [];
    if (files.length === 0) {
      console.error(`cfn-lint: no *.template.json in ${dir}; synthesize first (npx cdk synth -c env=<env> --output ${dir})`);
      failed = true;
      continue;
    }
    const run = spawnSync('cfn-lint', ['--format', 'json', '--non-zero-exit-code', 'none', '--', ...files], {
      encoding: 'utf8',
      env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: LINT_TIMEOUT_MS,
    });
    let findings: CfnLintFinding[];
    try {
      if (run.error || run.status !== 0) throw new Error(run.error?.message ?? `exit ${run.status}: ${run.stderr.trim()}`);
      findings = JSON.parse(run.stdout || '[]') as CfnLintFinding[];
    } catch (err) {
      console.error(`cfn-lint: could not lint ${dir}: ${(err as Error).message}`);
      failed = true;
      continue;
    }
    const templates = new Map(files.map((f) => [f, JSON.parse(readFileSync(f, 'utf8'))]));
    const report = gate(findings, templates, exceptions);
    report.excepted.forEach((n, i) => (used[i] += n));

    console.log(`${version.stdout.trim()} on ${relative(ROOT, dir) || dir} (${files.length} template${files.length === 1 ? '' : 's'}): ${findings.length} findings`);
    for (const [rule, count] of Object.entries(report.countsByRule).sort()) {
      const level = findings.find((f) => f.Rule.Id === rule)?.Level ?? '';
      const covered = exceptions.reduce((n, e, i) => (e.rule === rule ? n + report.excepted[i] : n), 0);
      console.log(`  ${rule} ${level.padEnd(7)} ${String(count).padStart(4)}${covered ? `  (${covered} excepted: exceptions.json)` : ''}`);
    }
    if (report.failures.length > 0) {
      failed = true;
      console.log(`  gate: FAILED, ${report.failures.length} finding(s) neither allowed nor excepted:`);
      for (const line of report.failures) console.log(`    ${line.startsWith(`${ROOT}/`) ? line.slice(ROOT.length + 1) : line}`);
    } else {
      console.log('  gate: passed (no error-level finding beyond the exceptions, no W3691)');
    }
  }
  used.forEach((n, i) => {
    if (n === 0) console.log(`cfn-lint: exception ${i} (${exceptions[i].rule} on ${exceptions[i].resourceTypes.join(', ')}) matched nothing; remove it if cfn-lint has caught up`);
  });
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
