import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { withCloudFormationValidation } from './cfn-validation';

/** An app with the cdk.json flag that makes validator errors fail synth, and one resource CloudFormation refuses. */
function appWithInvalidLogGroup(): App {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cfn-validation-')), context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  // A misspelt property: CloudFormation refuses properties its resource schema does not list (rule F3002).
  new CfnResource(new Stack(app, 'Invalid'), 'Logs', { type: 'AWS::Logs::LogGroup', properties: { RetentionInDay: 30 } });
  return app;
}

describe('the built-in CloudFormation validator in tests', () => {
  it('is off by default (the jest setup file), so a construct-level synth does not pay for it', () => {
    expect(() => appWithInvalidLogGroup().synth()).not.toThrow();
  });

  it('runs inside withCloudFormationValidation, fails the synth on an error, and turns off again afterwards', () => {
    expect(() => withCloudFormationValidation(() => appWithInvalidLogGroup().synth())).toThrow(/RetentionInDay: Additional properties are not allowed.*CloudFormation Validate/);
    expect(process.env.CDK_VALIDATION).toBe('false');
  });
});
