import { DescribeClustersCommand } from '@aws-sdk/client-ecs';
import { CheckFailed, type Check } from './check';

/** The imported ECS cluster exists and is ACTIVE. */
export const clusterCheck: Check = {
  name: 'cluster',
  doing: 'describe the imported ECS cluster',
  needs: ['credentials'],
  applies: (config) => config.cluster.mode === 'import',
  async run(ctx) {
    const cluster = ctx.config.cluster;
    if (cluster.mode !== 'import') return 'created by the stack';
    // ECS answers a missing cluster with a failure entry (reason MISSING), not an error.
    const r = await ctx.aws.ecs.send(new DescribeClustersCommand({ clusters: [cluster.clusterName] }));
    const found = r.clusters?.find((c) => c.clusterName === cluster.clusterName);
    if (!found) {
      const reason = r.failures?.[0]?.reason ?? 'MISSING';
      throw new CheckFailed(`no ECS cluster ${cluster.clusterName} in account ${ctx.account} ${ctx.config.region} (${reason}): check cluster.clusterName`);
    }
    if (found.status !== 'ACTIVE') throw new CheckFailed(`ECS cluster ${cluster.clusterName} is ${found.status}, not ACTIVE: services cannot be placed in it`);
    return `${found.clusterArn} ACTIVE`;
  },
};
