/**
 * Every alarm threshold of the app, with the reason for its value. The
 * monitoring construct reads them from here; docs/operations.md explains what
 * to do when each fires.
 */
export const ALARM_THRESHOLDS = {
  /**
   * Target 5xx rate per target group: over 5 % of requests answered 5xx by the
   * service, in each of 3 consecutive 5-minute periods. 15 minutes rides out a
   * deploy's or a task replacement's short burst of errors but pages well before
   * an hour of broken chat. Periods with fewer than `minRequests` requests count
   * as 0 %, so two failed requests at night are not "100 % errors".
   */
  target5xxRate: { percent: 5, periodMinutes: 5, evaluationPeriods: 3, minRequests: 20 },
  /**
   * Unhealthy targets: more than 0 for 3 consecutive 1-minute datapoints. The
   * seeds' health checks (seed 000) mark a target unhealthy after 3 failed checks
   * 30 s apart; an unhealthy target that stays so for 3 more minutes is not a
   * deploy in progress (ECS replaces it within that time) but a service that
   * cannot come up.
   */
  unhealthyHosts: { max: 0, periodMinutes: 1, datapoints: 3 },
  /**
   * Running tasks below desired for 5 consecutive minutes (Container Insights,
   * 1-minute data). A normal replacement (start, 60 s grace, 3 × 30 s checks) is
   * done in under 3 minutes; 5 minutes below desired is a crash loop, a failed
   * image pull, or Fargate capacity trouble.
   */
  runningBelowDesired: { periodMinutes: 1, evaluationPeriods: 5 },
  /**
   * RDS CPU above 80 % for 3 consecutive 5-minute periods: sustained saturation
   * (Synapse and Hasura share the instance), not a vacuum or backup spike.
   */
  rdsCpuPercent: { max: 80, periodMinutes: 5, evaluationPeriods: 3 },
  /**
   * RDS free storage below 10 % of the allocated storage for 15 minutes. Storage
   * auto scaling grows the volume when free space is under 10 % for 5 minutes;
   * still under it 15 minutes later means auto scaling has hit
   * maxAllocatedStorage or its 6-hour cool-down, and a person has to act.
   */
  rdsFreeStoragePercent: { min: 10, periodMinutes: 5, evaluationPeriods: 3 },
  /**
   * RDS connections above 80 % of PostgreSQL's max_connections, which RDS sets to
   * LEAST(DBInstanceClassMemory / 9531392, 5000): about 793 on db.m5.large (postgresMaxConnections).
   * Synapse, Hasura, the MCP server and the Lambdas all hold pools; at 80 % the
   * next deploy (old and new tasks both connected) can exhaust it.
   */
  rdsConnectionsPercentOfMax: { max: 80, periodMinutes: 5, evaluationPeriods: 2 },
  /** Used when the instance class is unknown (an imported database): RDS's figure for 4 GiB of memory. */
  rdsFallbackMaxConnections: 396,
  /**
   * Lambda errors per 5 minutes above which a function alarms. 0 for the Cognito
   * triggers (each error is a user who could not sign in) and the scheduled or
   * deploy-time functions; request-driven functions whose caller retries (the
   * link-preview webhook: Hasura retries) may set a higher figure.
   */
  lambdaErrorsPer5Min: 0,
  /**
   * The user provisioner's ProvisioningFailed metric: any failure in 5 minutes.
   * The provisioner lets the sign-in through when it fails, so the user is in but
   * without their rooms: nothing else would tell anyone.
   */
  provisioningFailuresPer5Min: 0,
} as const;

/** Memory (GiB) of the RDS instance classes the app is likely to run on, for max_connections. */
export const INSTANCE_MEMORY_GIB: Record<string, number> = {
  'db.t3.micro': 1,
  'db.t3.small': 2,
  'db.t3.medium': 4,
  'db.t3.large': 8,
  'db.t4g.micro': 1,
  'db.t4g.small': 2,
  'db.t4g.medium': 4,
  'db.t4g.large': 8,
  'db.t4g.xlarge': 16,
  'db.m5.large': 8,
  'db.m5.xlarge': 16,
  'db.m5.2xlarge': 32,
  'db.m6g.large': 8,
  'db.m6g.xlarge': 16,
  'db.m6i.large': 8,
  'db.m7g.large': 8,
  'db.m7g.xlarge': 16,
  'db.m7g.2xlarge': 32,
  'db.r5.large': 16,
  'db.r6g.large': 16,
};

/**
 * DBInstanceClassMemory is the class's memory less what the OS and RDS's own processes keep, "always
 * somewhat lower" than the class's RAM (RDS User Guide, DB parameter formula variables); AWS does not
 * publish it. Published readings of `show max_connections` give 198 on 2 GiB (88 % of the RAM-based
 * figure), 413 on 4 GiB (92 %), 856 on 8 GiB (95 %): the alarm and the connection budget take 88 % of the RAM.
 */
export const INSTANCE_MEMORY_USABLE_FRACTION = 0.88;

/**
 * RDS PostgreSQL's default max_connections for an instance class, LEAST({DBInstanceClassMemory/9531392}, 5000),
 * with DBInstanceClassMemory estimated as above; the fallback figure when the class is unknown (an imported database).
 */
export function postgresMaxConnections(instanceClass: string | undefined): number {
  const gib = instanceClass ? INSTANCE_MEMORY_GIB[instanceClass] : undefined;
  if (gib === undefined) return ALARM_THRESHOLDS.rdsFallbackMaxConnections;
  return Math.min(Math.floor((gib * 1024 ** 3 * INSTANCE_MEMORY_USABLE_FRACTION) / 9531392), 5000);
}

/** The WAF's fixed limits (the per-client rate is configuration: waf.ratePerIpPer5Min). */
export const WAF_LIMITS = {
  /**
   * Requests per connecting address in 5 minutes, counting only requests that carry no client-IP header
   * (edge.provider cloudflare). Cloudflare adds CF-Connecting-IP to every request it proxies, so no
   * legitimate client arrives without it: such a request came to the ALB directly (its name or address
   * is public unless edge.allowedCidrs limits the SG). 100 leaves an operator room to check the ALB by
   * hand (curl, a few scripted probes) while a scanner or a flood is blocked 20 times sooner than a
   * real user would be (2000); WAF's own minimum is 10.
   */
  withoutClientIpHeaderPer5Min: 100,
} as const;

/** One target-tracking policy: the value it holds a service at, and how fast it may move. */
export interface ScalingTarget {
  /** CPU percent (CPU policies) or ALB requests per target per minute (request policies). */
  readonly target: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
}

/**
 * Every autoscaling policy's target and cooldowns, with the reason for each. Shared reasons first:
 * - scale-out cooldown 60 s: a new task needs ~2 minutes (pull, 60 s start period, 2 healthy ALB
 *   checks 30 s apart) before it takes load; 60 s lets a rising load add a second step before the
 *   first lands, without target tracking stacking a step on every 1-minute datapoint.
 * - scale-in cooldown 300 s: removing a task drains it (up to 30 s) and moves its connections to the
 *   others; 5 minutes keeps a load that dips and returns (a meeting's end, a bot's batch) from
 *   flapping the service, and ECS target tracking scales in only after 15 low datapoints anyway.
 */
export const SCALING_TARGETS = {
  /**
   * MCP server CPU: tool calls are I/O-bound and CPU climbs with JSON and TLS work, so 60 % leaves
   * room for a burst while a new task starts.
   */
  mcpCpu: { target: 60, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
  /**
   * MCP server requests per target per minute (ALBRequestCountPerTarget is a 1-minute sum).
   * `npm run bench:mcp` (docker/mcp-server/README.md, 1 Dec 2026) measured 0.8–1.7 ms of server CPU
   * per tool call on the postgres backend; a re-run for this target (same day, load average 12–14 on
   * the 2 shared cores) gave 2.33 / 1.52 / 0.84 ms at 1 / 16 / 64 clients. A loaded task serves many
   * calls at once, so 1.7 ms is the figure to plan with. A 0.25 vCPU task has 250 ms of CPU a second:
   * 250 / 1.7 ≈ 147 calls/s at 100 %, ≈ 88 calls/s at the 60 % CPU target. The hasura backend adds
   * an HTTP round trip and a JSON parse per call that the bench does not measure, and Fargate's
   * vCPU is not the bench machine's core, so the request target takes half of that: 44 calls/s ≈
   * 2,640/min, rounded down to 2,400/min (40/s, four agents at the server's 600/min rate limit).
   * The old figure, 1,200/min (20/s), scaled out at about 10 % CPU: tasks paid for and idle.
   */
  mcpRequests: { target: 2400, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
  /**
   * Hasura CPU: the engine compiles GraphQL to one SQL statement and serialises the JSON Postgres
   * returns, so its CPU follows its request rate closely; 60 % leaves room for the subscriptions'
   * 1-second refetch bursts (HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL) while a task starts.
   */
  hasuraCpu: { target: 60, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
  /**
   * Hasura requests per target per minute. Hasura publishes ~1,000 queries/s for one engine
   * (https://dev.to/hasurahq/blazing-fast-graphql-execution-with-query-caching-postgres-prepared-statements-53pb,
   * no core count given; its source notes 50 connections cap it near 1,000 RPS at 50 ms a query by
   * Little's law). Our task has 0.5 vCPU and a 20-connection source pool: 20 / 50 ms = 400 queries/s is
   * the pool's ceiling. A quarter of it, 100/s = 6,000/min, scales out long before the pool queues,
   * and leaves the CPU policy to catch heavy queries. Subscriptions are WebSocket frames, not ALB
   * requests: CPU covers them.
   */
  hasuraRequests: { target: 6000, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
  /**
   * Synapse generic workers (sync, client reads) scale on CPU only: a long-polled /sync is one ALB
   * request per 30 s whatever the load, so request counts say little. Synapse is one Python process
   * per task (the GIL holds it to one core), and every worker spends CPU just following the
   * replication stream (Element: ~25 % at 40 events/s, https://element.io/blog/scaling-to-millions-of-users-requires-synapse-pro),
   * so the target is 50 %: the headroom a new worker needs while it catches up (a new task takes ~2
   * minutes to start and pass /health). In after 10 minutes rather than 5: every stopped task makes
   * the clients long-polling /sync on it reconnect, so a task is not stopped at the first lull.
   */
  synapseWorkerCpu: { target: 50, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 600 },
} as const satisfies Record<string, ScalingTarget>;

/**
 * Every Lambda that connects to the database: connections one invocation holds, and its reserved
 * concurrency, which is the cap the connection budget multiplies by. Capping beats RDS Proxy here:
 * the sum of all caps (44) is a small share of any instance's max_connections, the callers retry a
 * throttled call (below), and a proxy would cost ~$22 a month per environment (2 vCPU minimum) and
 * put a second TLS hop and IAM-or-secret auth between every function and the database. Reserved
 * concurrency comes out of the account's pool, which must keep 100 unreserved: an account still on
 * a low concurrency quota must raise it before deploying (README "Connection budget").
 */
export const LAMBDA_DATABASE_LIMITS = {
  /**
   * Cognito's post-authentication trigger: a throttled invocation fails that sign-in, so the cap is
   * generous: 20 at ~300 ms is ~65 sign-ins a second, far above a launch's morning peak.
   */
  userProvisioner: { perInvocation: 1, reservedConcurrency: 20 },
  /** Hasura's chat_messages insert trigger: Hasura retries a refused webhook, so 10 only slows previews in a burst. */
  linkPreview: { perInvocation: 1, reservedConcurrency: 10 },
  /** Invoked asynchronously after sign-in: Lambda queues and retries throttled async events for up to 6 hours. */
  membershipReconciler: { perInvocation: 1, reservedConcurrency: 5 },
  /** Deploy-time steps: CloudFormation sends one event per resource; 2 lets a retry overlap the call it replaces. */
  migrations: { perInvocation: 1, reservedConcurrency: 2 },
  databaseRoles: { perInvocation: 1, reservedConcurrency: 2 },
  /** A warm pool's connection and, for an adopted database, a client as the Synapse role. */
  synapseDatabaseSetup: { perInvocation: 2, reservedConcurrency: 2 },
  /** One master connection on the chat database and one on Synapse's. */
  abReaderRoles: { perInvocation: 2, reservedConcurrency: 2 },
  /** Every 5 minutes, one connection per database; its statements end inside the period, so runs never overlap. */
  abCollector: { perInvocation: 2, reservedConcurrency: 1 },
} as const;
