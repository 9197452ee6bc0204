import { DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../aws/errors';
import { CheckFailed, type Check } from './check';

/**
 * The imported VPC and subnets exist, the subnets are in that VPC, and each list follows
 * availabilityZones: CDK's Vpc.fromVpcAttributes takes subnet i to be in availabilityZones[i mod n].
 */
export const networkCheck: Check = {
  name: 'network',
  doing: 'describe the imported VPC and subnets',
  needs: ['credentials'],
  applies: (config) => config.network.mode === 'import',
  async run(ctx) {
    const net = ctx.config.network;
    if (net.mode !== 'import') return 'created by the stack';
    try {
      await ctx.aws.ec2.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }));
    } catch (err) {
      if (awsErrorCode(err) === 'InvalidVpcID.NotFound') throw new CheckFailed(`network.vpcId: ${(err as Error).message} in account ${ctx.account} ${ctx.config.region}`);
      throw err;
    }
    const groups = { publicSubnetIds: net.publicSubnetIds, privateSubnetIds: net.privateSubnetIds, isolatedSubnetIds: net.isolatedSubnetIds };
    const ids = [...new Set(Object.values(groups).flat())];
    let subnets;
    try {
      subnets = (await ctx.aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids }))).Subnets ?? [];
    } catch (err) {
      if (awsErrorCode(err) === 'InvalidSubnetID.NotFound') throw new CheckFailed(`network: ${(err as Error).message} in account ${ctx.account} ${ctx.config.region}; check the subnet ids`);
      throw err;
    }
    const byId = new Map(subnets.map((s) => [s.SubnetId, s]));
    const problems: string[] = [];
    for (const [key, list] of Object.entries(groups)) {
      list.forEach((id, i) => {
        const subnet = byId.get(id);
        const az = net.availabilityZones[i % net.availabilityZones.length];
        if (!subnet) problems.push(`${key}[${i}] ${id} was not returned`);
        else if (subnet.VpcId !== net.vpcId) problems.push(`${key}[${i}] ${id} is in ${subnet.VpcId}, not ${net.vpcId}`);
        else if (subnet.AvailabilityZone !== az)
          problems.push(
            `${key}[${i}] ${id} is in ${subnet.AvailabilityZone}, but availabilityZones[${i % net.availabilityZones.length}] is ${az} (list the subnets in the order of availabilityZones)`,
          );
      });
    }
    if (problems.length) throw new CheckFailed(`network: ${problems.join('; ')}`);
    return `${net.vpcId} with ${ids.length} subnets across ${net.availabilityZones.join(', ')}`;
  },
};
