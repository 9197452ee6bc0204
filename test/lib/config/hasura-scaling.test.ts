import { ConfigError, loadConfig } from '../../../lib/config';
import { cdkJsonEnvironments } from '../../support/synth';

const withHasura = (hasura: Record<string, unknown>) => {
  const envs = cdkJsonEnvironments();
  envs.production = { ...envs.production, hasura: { mode: 'create', ...hasura } };
  return envs;
};
const hasuraOf = (envs: Record<string, Record<string, unknown>>, env: string) => loadConfig(envs, env).hasura as { minCount: number; maxCount: number };

describe('hasura.minCount / maxCount', () => {
  it('defaults to 1–2 tasks in development and 2–6 in production', () => {
    expect(hasuraOf(cdkJsonEnvironments(), 'development')).toMatchObject({ minCount: 1, maxCount: 2 });
    expect(hasuraOf(cdkJsonEnvironments(), 'production')).toMatchObject({ minCount: 2, maxCount: 6 });
  });

  it('takes configured bounds, and a minimum above the default maximum raises the maximum with it', () => {
    expect(hasuraOf(withHasura({ minCount: 3, maxCount: 12 }), 'production')).toMatchObject({ minCount: 3, maxCount: 12 });
    expect(hasuraOf(withHasura({ minCount: 8 }), 'production')).toMatchObject({ minCount: 8, maxCount: 8 });
    expect(hasuraOf(withHasura({ minCount: 2, maxCount: 2 }), 'production')).toMatchObject({ minCount: 2, maxCount: 2 });
  });

  it('refuses a maximum below the minimum, and counts outside 1–20', () => {
    expect(() => loadConfig(withHasura({ minCount: 4, maxCount: 3 }), 'production')).toThrow(ConfigError);
    expect(() => loadConfig(withHasura({ minCount: 4, maxCount: 3 }), 'production')).toThrow(/hasura\.maxCount.*expected at least hasura\.minCount \(4\), got 3/s);
    expect(() => loadConfig(withHasura({ maxCount: 21 }), 'production')).toThrow(/hasura\.maxCount/);
    expect(() => loadConfig(withHasura({ minCount: 0 }), 'production')).toThrow(/hasura\.minCount/);
    expect(() => loadConfig(withHasura({ minCount: 1.5 }), 'production')).toThrow(/hasura\.minCount/);
  });
});
