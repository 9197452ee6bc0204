import { DescribeListenersCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsErrorCode } from '../aws/errors';
import { CheckFailed, type Check } from './check';

/** The imported listener and load balancer exist and match the attributes the stack imports them by. */
export const loadBalancerCheck: Check = {
  name: 'load-balancer',
  doing: 'describe the imported listener and load balancer',
  needs: ['credentials'],
  applies: (config) => config.loadBalancer.mode === 'import',
  async run(ctx) {
    const lb = ctx.config.loadBalancer;
    if (lb.mode !== 'import') return 'created by the stack';
    let listener;
    try {
      listener = (await ctx.aws.elbv2.send(new DescribeListenersCommand({ ListenerArns: [lb.listenerArn] }))).Listeners?.[0];
    } catch (err) {
      // The SDK names the wire code ListenerNotFound as ListenerNotFoundException.
      if (/^ListenerNotFound/.test(awsErrorCode(err) ?? '')) throw new CheckFailed(`no listener ${lb.listenerArn} in account ${ctx.account} ${ctx.config.region}: check loadBalancer.listenerArn`);
      throw err;
    }
    const problems: string[] = [];
    if (listener?.Protocol !== 'HTTPS') problems.push(`the listener is ${listener?.Protocol} on port ${listener?.Port}; the chat rules need the HTTPS listener`);
    if (listener?.LoadBalancerArn !== lb.loadBalancerArn) problems.push(`the listener belongs to ${listener?.LoadBalancerArn}, not loadBalancerArn ${lb.loadBalancerArn}`);
    let alb;
    try {
      alb = (await ctx.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.loadBalancerArn] }))).LoadBalancers?.[0];
    } catch (err) {
      if (/^LoadBalancerNotFound/.test(awsErrorCode(err) ?? ''))
        throw new CheckFailed(`no load balancer ${lb.loadBalancerArn} in account ${ctx.account} ${ctx.config.region}: check loadBalancer.loadBalancerArn`);
      throw err;
    }
    if (alb?.Type !== 'application') problems.push(`${lb.loadBalancerArn} is a ${alb?.Type} load balancer, not an application load balancer`);
    if (alb?.DNSName?.toLowerCase() !== lb.dnsName.toLowerCase()) problems.push(`its DNS name is ${alb?.DNSName}, not dnsName ${lb.dnsName}`);
    if (alb?.CanonicalHostedZoneId !== lb.canonicalHostedZoneId) problems.push(`its canonical hosted zone is ${alb?.CanonicalHostedZoneId}, not canonicalHostedZoneId ${lb.canonicalHostedZoneId}`);
    const net = ctx.config.network;
    if (net.mode === 'import' && alb?.VpcId !== net.vpcId) problems.push(`it is in ${alb?.VpcId}, not network.vpcId ${net.vpcId}`);
    if (problems.length) throw new CheckFailed(`loadBalancer: ${problems.join('; ')}`);
    return `HTTPS listener on ${alb?.DNSName}`;
  },
};
