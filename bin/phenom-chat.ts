#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { configFromContext, createStacks } from '../lib/app';
import { ConfigError } from '../lib/config';

// CDK's built-in CloudFormation validator (cfn-lint rules compiled to wasm) costs about 7 s of
// CPU per environment: more than the rest of synth together. `npm test` runs it on both
// environments on every change (test/support/synth.ts), so CI gates on it; the interactive
// synth/diff/deploy loop skips it unless asked with PHENOM_CFN_VALIDATE=1. cdk-nag always runs.
const app = new App({ builtinCloudFormationValidation: process.env.PHENOM_CFN_VALIDATE === '1' });
try {
  createStacks(app, configFromContext(app));
} catch (err) {
  if (err instanceof ConfigError) {
    // A config mistake is the operator's to fix: print it plainly, without a stack trace.
    console.error(`Invalid phenom-chat configuration:\n${err.message}`);
    process.exit(1);
  }
  throw err;
}
