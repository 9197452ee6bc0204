/**
 * aws-cdk-lib runs its built-in CloudFormation validator (@aws/cloudformation-validate, a 9 MB
 * wasm module) in every `app.synth()` and every `Template.fromStack`. Each test file loads its
 * own copy of aws-cdk-lib, so each file that synthesizes paid about 6 s of CPU compiling that
 * module, plus about 2 s a synth (measured 2026-12-01). Without the cdk.json context key
 * `@aws-cdk/core:validateAgainstDefaultRules` its errors are downgraded to warnings nobody
 * reads, so for the construct-level tests it checked nothing. The synths that carry that
 * context (every full environment, test/support/synth.ts) ask for it with
 * withCloudFormationValidation and still fail on what it finds.
 */
const SWITCH = 'CDK_VALIDATION';

/** Jest setup file: no built-in CloudFormation validation unless a synth asks for it. */
export function skipCloudFormationValidation(): void {
  process.env[SWITCH] = 'false';
}

/** Runs `synth` with aws-cdk-lib's built-in CloudFormation validation as `cdk synth` has it by default. */
export function withCloudFormationValidation<T>(synth: () => T): T {
  const before = process.env[SWITCH];
  delete process.env[SWITCH];
  try {
    return synth();
  } finally {
    if (before === undefined) delete process.env[SWITCH];
    else process.env[SWITCH] = before;
  }
}
