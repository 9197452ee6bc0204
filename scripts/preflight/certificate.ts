import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { awsErrorCode } from '../aws/errors';
import { arnAccount, arnRegion, CheckFailed, type Check } from './check';

/** Whether a certificate name (possibly `*.example.com`) covers `domain`; a wildcard covers one label. */
export function coversDomain(name: string, domain: string): boolean {
  if (name === domain) return true;
  return name.startsWith('*.') && domain.slice(domain.indexOf('.') + 1) === name.slice(2);
}

/** The imported certificate exists, is ISSUED, is usable by this region's ALB and covers domainName. */
export const certificateCheck: Check = {
  name: 'certificate',
  doing: 'describe the imported certificate',
  needs: ['credentials'],
  applies: (config) => config.certificate.mode === 'import',
  async run(ctx) {
    if (ctx.config.certificate.mode !== 'import') return 'created by the stack';
    const arn = ctx.config.certificate.arn;
    // An ALB listener takes only certificates of its own region and account.
    if (arnRegion(arn) !== ctx.config.region) {
      throw new CheckFailed(
        `certificate.arn is in ${arnRegion(arn)}, but the stack deploys to ${ctx.config.region}: an ALB takes only certificates of its region; import or request one in ${ctx.config.region}`,
      );
    }
    if (ctx.account && arnAccount(arn) !== ctx.account) {
      throw new CheckFailed(`certificate.arn belongs to account ${arnAccount(arn)}, not ${ctx.account}: an ALB takes only its own account's certificates`);
    }
    let cert;
    try {
      cert = (await ctx.aws.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
    } catch (err) {
      if (awsErrorCode(err) === 'ResourceNotFoundException') throw new CheckFailed(`ACM has no certificate ${arn} in account ${ctx.account} ${ctx.config.region}: check certificate.arn`);
      if (awsErrorCode(err) === 'InvalidArnException') throw new CheckFailed(`certificate.arn ${arn} is not a valid ACM certificate ARN`);
      throw err;
    }
    if (cert?.Status !== 'ISSUED') {
      const hint = cert?.Status === 'PENDING_VALIDATION' ? 'add its validation record (`npm run dns-records` prints it) and wait until ACM issues it' : 'import or request a valid certificate';
      throw new CheckFailed(`certificate ${arn} is ${cert?.Status}, not ISSUED: ${hint}`);
    }
    const names = [...new Set([cert.DomainName, ...(cert.SubjectAlternativeNames ?? [])].filter((n): n is string => Boolean(n)))];
    if (!names.some((n) => coversDomain(n, ctx.config.domainName))) {
      throw new CheckFailed(`certificate ${arn} covers ${names.join(', ')}, not ${ctx.config.domainName}: browsers would refuse the chat domain; import a certificate for it`);
    }
    return `${arn}: ISSUED for ${names.join(', ')}`;
  },
};
