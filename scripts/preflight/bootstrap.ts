import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsErrorCode } from '../aws/errors';
import { CheckFailed, type Check } from './check';

/** Stack statuses in which the bootstrap stack's resources are in place and settled. */
const SETTLED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

/**
 * The target account and region are bootstrapped, recently enough: `cdk deploy` needs the
 * CDKToolkit stack's roles, bucket and ECR repository, and the template's CheckBootstrapVersion
 * rule rejects a bootstrap older than the assembly requires.
 */
export const bootstrapCheck: Check = {
  name: 'bootstrap',
  doing: 'describe the CDK bootstrap stack',
  needs: ['credentials', 'synth'],
  async run(ctx) {
    const target = `aws://${ctx.account}/${ctx.config.region}`;
    const bootstrapCommand = `\`npx cdk bootstrap ${target}\``;
    let stack;
    try {
      stack = (await ctx.aws.cloudFormation.send(new DescribeStacksCommand({ StackName: ctx.toolkitStackName }))).Stacks?.[0];
    } catch (err) {
      if (awsErrorCode(err) === 'ValidationError' && /does not exist/.test((err as Error).message)) {
        throw new CheckFailed(`${target} is not bootstrapped (no ${ctx.toolkitStackName} stack): run ${bootstrapCommand}`);
      }
      throw err;
    }
    const status = stack?.StackStatus ?? 'UNKNOWN';
    if (!SETTLED.has(status)) {
      const inProgress = status.endsWith('_IN_PROGRESS');
      throw new CheckFailed(
        inProgress
          ? `${ctx.toolkitStackName} in ${target} is ${status}: wait for it to finish, then run this again`
          : `${ctx.toolkitStackName} in ${target} is ${status}: look at its events in the CloudFormation console, delete it if it never completed, and run ${bootstrapCommand}`,
      );
    }
    const required = ctx.assembly?.requiredBootstrapVersion ?? 0;
    const output = stack?.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue;
    const version = Number(output);
    if (!output || !Number.isInteger(version)) {
      throw new CheckFailed(`${ctx.toolkitStackName} in ${target} has no BootstrapVersion output, so it is not the modern CDK bootstrap: run ${bootstrapCommand}`);
    }
    const qualifier = stack?.Parameters?.find((p) => p.ParameterKey === 'Qualifier')?.ParameterValue;
    if (ctx.assembly?.bootstrapQualifier && qualifier && qualifier !== ctx.assembly.bootstrapQualifier) {
      throw new CheckFailed(
        `${ctx.toolkitStackName} in ${target} was bootstrapped with qualifier ${qualifier}, but the app's synthesizer uses ${ctx.assembly.bootstrapQualifier}: ` +
          `pass --toolkit-stack-name for the stack with qualifier ${ctx.assembly.bootstrapQualifier}, or bootstrap it (${bootstrapCommand})`,
      );
    }
    if (version < required) {
      throw new CheckFailed(`${ctx.toolkitStackName} in ${target} is bootstrap version ${version}, but this app needs ${required} or later: run ${bootstrapCommand} to upgrade it`);
    }
    return `${ctx.toolkitStackName} in ${target}: version ${version} (the app needs ${required} or later), ${status}`;
  },
};
