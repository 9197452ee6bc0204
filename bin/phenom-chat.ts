#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { configFromContext, createStacks } from '../lib/app';
import { ConfigError } from '../lib/config';

const app = new App();
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
