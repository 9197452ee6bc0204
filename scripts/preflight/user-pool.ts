import { DescribeUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { awsErrorCode } from '../aws/errors';
import { CheckFailed, type Check } from './check';

/** The imported user pool exists in the stack's region and has the configured hosted-UI domain. */
export const userPoolCheck: Check = {
  name: 'user-pool',
  doing: 'describe the imported user pool',
  needs: ['credentials'],
  applies: (config) => config.userPool.mode === 'import',
  async run(ctx) {
    const pool = ctx.config.userPool;
    if (pool.mode !== 'import') return 'created by the stack';
    // A pool id starts with its region; the stack imports it as a pool of its own region.
    const region = pool.userPoolId.split('_')[0];
    if (region !== ctx.config.region)
      throw new CheckFailed(`userPool.userPoolId ${pool.userPoolId} is in ${region}, but the stack deploys to ${ctx.config.region}: import a pool of ${ctx.config.region}`);
    let described;
    try {
      described = (await ctx.aws.cognito.send(new DescribeUserPoolCommand({ UserPoolId: pool.userPoolId }))).UserPool;
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') throw new CheckFailed(`no Cognito user pool ${pool.userPoolId} in account ${ctx.account}: check userPool.userPoolId`);
      throw err;
    }
    // The hosted-UI domain is a Cognito prefix domain (<prefix>.auth.<region>.amazoncognito.com) or a custom one.
    const prefix = new RegExp(`^([a-z0-9-]+)\\.auth\\.${ctx.config.region}\\.amazoncognito\\.com$`).exec(pool.domain)?.[1];
    const actual = described?.CustomDomain ?? (described?.Domain ? `${described.Domain}.auth.${ctx.config.region}.amazoncognito.com` : undefined);
    const matches = prefix ? described?.Domain === prefix : described?.CustomDomain === pool.domain;
    if (!matches) {
      throw new CheckFailed(
        actual
          ? `user pool ${pool.userPoolId} has the hosted-UI domain ${actual}, not userPool.domain ${pool.domain}: set userPool.domain to ${actual}`
          : `user pool ${pool.userPoolId} has no hosted-UI domain, and Synapse's sign-in redirects to one: add the domain ${pool.domain} to the pool`,
      );
    }
    return `${pool.userPoolId} (${described?.Name}) with hosted UI ${pool.domain}`;
  },
};
