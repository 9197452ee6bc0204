import type { CostEstimate } from '../cost/estimate';
import type { AbBackend } from '../../chat-domain/ab-metrics';

/**
 * Each backend's share of the monthly cost, from `npm run cost`'s model.
 *
 * The rule, stated in the report: an item that exists only for one backend is that backend's (Synapse,
 * its Admin UI and history purge are Matrix's; Hasura, its metadata step, migrations and the link
 * preview are Hasura Lite's). Everything else is shared (ALB, NAT, public IPv4, RDS, the MCP server,
 * the Cognito triggers and membership reconciler, secrets, CloudWatch, KMS) and split evenly: both
 * backends run in full for the whole evaluation and each needs every shared part, so a split by
 * traffic would make an idle backend look free.
 */
export const SHARED_SPLIT_RULE =
  'Items that exist for one backend only are charged to it; shared items (ALB, NAT, public IPv4, RDS, the MCP server, ' +
  'Cognito triggers, membership reconciler, secrets, CloudWatch, KMS) are split 50/50, because both backends run in full ' +
  'for the evaluation and each needs every shared part.';

const OWNERS: readonly [RegExp, AbBackend][] = [
  [/synapse/i, 'matrix'],
  [/hasura|linkpreview|link-preview|migrations/i, 'hasura-lite'],
];

export type CostOwner = AbBackend | 'shared';

export function ownerOf(itemName: string): CostOwner {
  return OWNERS.find(([pattern]) => pattern.test(itemName))?.[1] ?? 'shared';
}

export interface CostShare {
  readonly dedicatedUsd: Record<AbBackend, number>;
  readonly sharedUsd: number;
  readonly totalUsd: Record<AbBackend, number>;
}

export function costShare(estimate: CostEstimate): CostShare {
  const dedicatedUsd: Record<AbBackend, number> = { matrix: 0, 'hasura-lite': 0 };
  let sharedUsd = 0;
  for (const item of estimate.items) {
    const owner = ownerOf(item.name);
    if (owner === 'shared') sharedUsd += item.monthlyUsd;
    else dedicatedUsd[owner] += item.monthlyUsd;
  }
  return {
    dedicatedUsd,
    sharedUsd,
    totalUsd: { matrix: dedicatedUsd.matrix + sharedUsd / 2, 'hasura-lite': dedicatedUsd['hasura-lite'] + sharedUsd / 2 },
  };
}
