import { agentClientId, parseLocalOptions, UsageError } from '../../scripts/local/options';

describe('npm run local options', () => {
  it('defaults to one agent on port 3001 with the deployed rate limits', () => {
    expect(parseLocalOptions([], {})).toEqual({ port: 3001, agents: 1, noAuth: false, rateLimitPerMinute: 600, rateLimitBurst: 60 });
  });

  it('takes --agents, the rate limits (flags over the environment) and PORT', () => {
    const env = { PORT: '4100', RATE_LIMIT_PER_MINUTE: '6000', RATE_LIMIT_BURST: '100' };
    expect(parseLocalOptions(['--agents', '64', '--rate-limit-burst', '7'], env)).toEqual({ port: 4100, agents: 64, noAuth: false, rateLimitPerMinute: 6000, rateLimitBurst: 7 });
    expect(parseLocalOptions(['--agents=3'], {}).valueOf()).toMatchObject({ agents: 3 });
    expect(parseLocalOptions(['--no-auth'], {})).toMatchObject({ noAuth: true, agents: 1 });
    expect(parseLocalOptions(['--help'], {})).toBe('help');
  });

  it.each([
    [['--agents', '0'], {}, '--agents must be at least 1'],
    [['--agents', '1001'], {}, '--agents may be at most 1000'],
    [['--agents', '2.5'], {}, '--agents must be a whole number'],
    [['--agents'], {}, "Option '--agents <value>' argument missing"],
    [['--rate-limit-burst=-1'], {}, '--rate-limit-burst must be a whole number'],
    [[], { RATE_LIMIT_PER_MINUTE: 'lots' }, '--rate-limit-per-minute must be a whole number'],
    [[], { PORT: '70000' }, 'PORT may be at most 65535'],
    [['--frobnicate'], {}, "Unknown option '--frobnicate'"],
    [['extra'], {}, "Unexpected argument 'extra'"],
    [['--no-auth', '--agents', '2'], {}, '--agents gives each agent a token; with --no-auth there are none'],
  ])('refuses %j with %j: %s', (argv, env, message) => {
    expect(() => parseLocalOptions(argv, env)).toThrow(UsageError);
    expect(() => parseLocalOptions(argv, env)).toThrow(message);
  });

  it('names agents so the first keeps local mode’s original client id', () => {
    expect([1, 2, 64].map(agentClientId)).toEqual(['local-agent', 'local-agent-2', 'local-agent-64']);
  });
});
