import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CheckFailed, type Check } from './check';

/** The credentials work, and belong to the account the config pins (when it pins one). */
export const credentialsCheck: Check = {
  name: 'credentials',
  doing: 'call sts:GetCallerIdentity',
  async run(ctx) {
    const identity = await ctx.aws.sts.send(new GetCallerIdentityCommand({}));
    ctx.account = identity.Account;
    const pinned = ctx.config.account;
    if (pinned && identity.Account !== pinned) {
      throw new CheckFailed(
        `the credentials are for account ${identity.Account} (${identity.Arn}), but cdk.json deploys ${ctx.config.envName} to account ${pinned}: ` +
          `use a profile for ${pinned} (AWS_PROFILE=…), or change the account key`,
      );
    }
    return `${identity.Arn} (account ${identity.Account}${pinned ? ', as cdk.json pins' : ''})`;
  },
};
