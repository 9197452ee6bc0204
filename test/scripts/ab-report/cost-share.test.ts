import { costShare, ownerOf } from '../../../scripts/ab-report/cost-share';
import { CfnTemplate, estimateMonthlyCost } from '../../../scripts/cost/estimate';
import { USAGE_ASSUMPTIONS } from '../../../scripts/cost/prices';
import { stackTemplate } from '../../support/synth';

/**
 * Whose an item really is, from what it is (an ECS service name, or the construct its logical id comes
 * from), as SHARED_SPLIT_RULE states it: the rule's name patterns must agree with this on every item.
 */
const EXPECTED_OWNER: readonly [RegExp, ReturnType<typeof ownerOf>][] = [
  [/^ChatSynapse|^ChatOperationsSynapseHistoryPurge|-synapse(-admin)?$/, 'matrix'],
  [/^ChatHasuraLite|^ChatLinkPreview|-hasura$/, 'hasura-lite'],
  // The A/B evaluation reads both backends alike: shared, even where a resource name says Synapse.
  [/^AbEvaluation|^Platform|^ChatShared|^ChatMembershipReconciler|-chat-mcp$/, 'shared'],
];

describe("the cost-share rule's name patterns against the template's cost items", () => {
  for (const envName of ['development', 'production'] as const) {
    it(`charges each ${envName} item to the construct that owns it`, () => {
      const estimate = estimateMonthlyCost(stackTemplate(envName).toJSON() as CfnTemplate, USAGE_ASSUMPTIONS[envName]);
      const checked = estimate.items.flatMap((item) => {
        const expected = EXPECTED_OWNER.find(([construct]) => construct.test(item.name))?.[1];
        return expected ? [{ name: item.name, owner: ownerOf(item.name), expected }] : [];
      });
      // The rule has something to judge on both sides, and judges it as the construct tree says.
      expect(checked.filter((c) => c.expected === 'matrix').length).toBeGreaterThan(0);
      expect(checked.filter((c) => c.expected === 'hasura-lite').length).toBeGreaterThan(0);
      expect(checked.filter((c) => c.expected === 'shared').length).toBeGreaterThan(0);
      expect(checked.filter((c) => c.owner !== c.expected)).toEqual([]);
      const share = costShare(estimate);
      expect(share.totalUsd.matrix + share.totalUsd['hasura-lite']).toBeCloseTo(
        estimate.items.reduce((a, i) => a + i.monthlyUsd, 0),
        6,
      );
    });
  }
});
