import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { awsErrorCode } from '../aws/errors';
import { arnAccount, arnRegion, CheckFailed, type Check } from './check';

/**
 * The SES identity Cognito sends from is verified for sending. The identity is
 * userPool.email.sesIdentityArn, or else the from address's domain in the stack's account and
 * region (lib/config/schema.ts); Cognito refuses an unverified identity when the pool is created.
 */
export const sesCheck: Check = {
  name: 'ses',
  doing: 'call sesv2:GetEmailIdentity',
  needs: ['credentials'],
  applies: (config) => config.userPool.mode === 'create' && Boolean(config.userPool.email),
  async run(ctx) {
    const email = ctx.config.userPool.mode === 'create' ? ctx.config.userPool.email : undefined;
    if (!email) return 'Cognito sends its own e-mail';
    const arn = email.sesIdentityArn;
    const region = arn ? arnRegion(arn) : ctx.config.region;
    if (arn && ctx.account && arnAccount(arn) !== ctx.account) {
      return `${arn} is in account ${arnAccount(arn)}: not checkable with these credentials (its sending authorization policy must let Cognito send)`;
    }
    const candidates = arn ? [arn.slice(arn.indexOf(':identity/') + ':identity/'.length)] : [email.fromAddress.split('@')[1], email.fromAddress];
    const ses = ctx.aws.forRegion(region).sesv2;
    for (const identity of candidates) {
      let found;
      try {
        found = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
      } catch (err) {
        if (awsErrorCode(err) === 'NotFoundException') continue;
        throw err;
      }
      if (!found.VerifiedForSendingStatus) {
        throw new CheckFailed(
          `the SES identity ${identity} in ${region} is not verified for sending (VerifiedForSendingStatus false, VerificationStatus ${found.VerificationStatus}): publish its DKIM records ` +
            `(\`aws sesv2 get-email-identity --region ${region} --email-identity ${identity} --query DkimAttributes.Tokens\`: each token T is a CNAME T._domainkey.${identity.split('@').pop()} → T.dkim.amazonses.com) and wait for SUCCESS`,
        );
      }
      return `${identity} in ${region} verified for sending (Cognito sends as ${email.fromAddress})`;
    }
    throw new CheckFailed(
      `SES in ${region} has no identity ${candidates.join(' or ')}: create it (\`aws sesv2 create-email-identity --region ${region} --email-identity ${candidates[0]}\`) and publish the DKIM records it prints, ` +
        'or set userPool.email.sesIdentityArn to a verified identity',
    );
  },
};
