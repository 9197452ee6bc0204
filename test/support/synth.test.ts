import { cachedSynth, cdkJsonEnvironments, variantsCached } from './synth';
import { IMPORT_EVERYTHING, TEST_RUN_VARIANTS } from './synth-variants';

/** A variant's environments block, as the global setup built it. */
function variantEnvs(edit: (envs: Record<string, Record<string, unknown>>) => void): Record<string, Record<string, unknown>> {
  const envs = cdkJsonEnvironments();
  edit(envs);
  return envs;
}

describe("the global setup's synth cache", () => {
  it("serves cdk.json's config, each environment with its own stack", () => {
    expect(Object.keys(cachedSynth('development', cdkJsonEnvironments())?.templates ?? {})).toEqual(['PhenomChat-development']);
    expect(Object.keys(cachedSynth('production', cdkJsonEnvironments())?.templates ?? {})).toEqual(['PhenomChat-production']);
  });

  // The global setup synthesizes the variants for a whole run (npm test, CI) only.
  const wholeRun = variantsCached() ? it : it.skip;

  wholeRun('serves every shared variant in a whole run, each with its own stack', () => {
    for (const v of TEST_RUN_VARIANTS) {
      expect({ variant: v.envName, stacks: Object.keys(cachedSynth(v.envName, variantEnvs(v.edit), v.options)?.templates ?? {}) }).toEqual({ variant: v.envName, stacks: [`PhenomChat-${v.envName}`] });
    }
  });

  wholeRun('keeps the variants apart: an imported network is in the import variant, not in the configured environment', () => {
    const imported = cachedSynth('development', variantEnvs(IMPORT_EVERYTHING.edit))!.templates['PhenomChat-development'] as { Resources: Record<string, { Type: string }> };
    const configured = cachedSynth('development', cdkJsonEnvironments())!.templates['PhenomChat-development'] as { Resources: Record<string, { Type: string }> };
    const vpcs = (t: typeof imported) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::EC2::VPC').length;
    expect([vpcs(imported), vpcs(configured)]).toEqual([0, 1]);
  });

  it('misses on any other input: another environments block, another environment, the other bundling switch', () => {
    const edited = variantEnvs((envs) => (envs.development.logRetentionDays = 1));
    expect(cachedSynth('development', edited)).toBeUndefined();
    expect(cachedSynth('staging', cdkJsonEnvironments())).toBeUndefined();
    expect(cachedSynth('development', cdkJsonEnvironments(), { bundleLambdas: false })).toBeUndefined();
    // The same inputs as the configured synth, bundling named explicitly: the same key.
    expect(cachedSynth('development', cdkJsonEnvironments(), { bundleLambdas: true })).toBeDefined();
  });
});
