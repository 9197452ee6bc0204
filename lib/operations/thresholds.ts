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
   * LEAST(DBInstanceClassMemory / 9531392, 5000): about 900 on db.m5.large.
   * Synapse, Hasura, the MCP server and the Lambdas all hold pools; at 80 % the
   * next deploy (old and new tasks both connected) can exhaust it.
   */
  rdsConnectionsPercentOfMax: { max: 80, periodMinutes: 5, evaluationPeriods: 2 },
  /** Used when the instance class is unknown (an imported database): RDS's figure for 4 GiB of memory. */
  rdsFallbackMaxConnections: 450,
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

/** Scaling of Synapse's generic workers (issue #17). */
export const SYNAPSE_WORKER_SCALING = {
  /**
   * CPU target 60 %: a Synapse process is one Python thread (the GIL), so a task whose CPU nears 100 %
   * of its share queues every request behind the busiest one; 60 % leaves a burst's worth while a new
   * task takes its ~2 minutes to start and pass /health. Out after 2 minutes, so one busy minute of
   * sync traffic does not add a task; in after 10, so a task that holds /sync long-polls is not stopped
   * at the first lull (each stopped task makes its clients reconnect).
   */
  genericCpu: { targetPercent: 60, scaleOutCooldownSeconds: 120, scaleInCooldownSeconds: 600 },
} as const;

/** Memory (GiB) of the RDS instance classes the app is likely to run on, for max_connections. */
const INSTANCE_MEMORY_GIB: Record<string, number> = {
  'db.t3.micro': 1,
  'db.t3.small': 2,
  'db.t3.medium': 4,
  'db.t3.large': 8,
  'db.t4g.micro': 1,
  'db.t4g.small': 2,
  'db.t4g.medium': 4,
  'db.t4g.large': 8,
  'db.m5.large': 8,
  'db.m5.xlarge': 16,
  'db.m5.2xlarge': 32,
  'db.m6g.large': 8,
  'db.m6g.xlarge': 16,
  'db.m6i.large': 8,
  'db.m7g.large': 8,
  'db.r5.large': 16,
  'db.r6g.large': 16,
};

/** RDS PostgreSQL's default max_connections for an instance class: LEAST(memory bytes / 9531392, 5000). */
export function postgresMaxConnections(instanceClass: string | undefined): number {
  const gib = instanceClass ? INSTANCE_MEMORY_GIB[instanceClass] : undefined;
  if (gib === undefined) return ALARM_THRESHOLDS.rdsFallbackMaxConnections;
  return Math.min(Math.floor((gib * 1024 ** 3) / 9531392), 5000);
}
