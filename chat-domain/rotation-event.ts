import * as z from 'zod';

/**
 * Secrets Manager's end of a rotation as EventBridge delivers it: an event derived from the CloudTrail
 * entry RotationSucceeded (source aws.secretsmanager, detail.eventSource secretsmanager.amazonaws.com),
 * which names the rotated secret by its ARN in detail.additionalEventData.SecretId.
 *
 * The detail-type is the one thing the AWS pages leave open. The CloudTrail page lists RotationSucceeded
 * among the entries Secrets Manager writes itself (not API calls, so "AWS Service Event via CloudTrail",
 * eventType AwsServiceEvent), while the EventBridge page's own pattern for "a secret value rotates" matches
 * RotationSucceeded under either detail-type ($or of "AWS API Call via CloudTrail" and "AWS Service Event
 * via CloudTrail"). The rule and the handler accept both, as that pattern does.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html ("Log entries for rotation")
 */
export const ROTATION_EVENT = {
  source: 'aws.secretsmanager',
  detailTypes: ['AWS Service Event via CloudTrail', 'AWS API Call via CloudTrail'],
  eventSource: 'secretsmanager.amazonaws.com',
  eventName: 'RotationSucceeded',
} as const;

/** One secret and the ECS services that read it only at start, so restart after it rotates. */
export interface RotationRestartEntry {
  readonly secretArn: string;
  /** Service names in the function's cluster. */
  readonly services: readonly string[];
}

const restartsSchema = z
  .array(
    z.object({
      secretArn: z.string({ error: 'must be a secret ARN' }).startsWith('arn:', { error: 'must be a secret ARN' }),
      services: z.array(z.string().min(1), { error: 'must be a non-empty list of service names' }).min(1, { error: 'must be a non-empty list of service names' }),
    }),
    { error: 'must be a non-empty list of {secretArn, services}' },
  )
  .min(1, { error: 'must be a non-empty list of {secretArn, services}' });

/**
 * The restart function's table (its RESTARTS variable, JSON), checked: a list of entries, each with a
 * secret ARN and at least one service, no secret listed twice.
 */
export function parseRotationRestarts(json: string | undefined): RotationRestartEntry[] {
  if (!json) throw new Error('RESTARTS is not set');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`RESTARTS is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = restartsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // RESTARTS[0].services, not RESTARTS.0.services: the name an operator finds in the function's table.
    const [index, field] = issue.path;
    const where = index === undefined ? 'RESTARTS' : `RESTARTS[${String(index)}]${field === undefined ? '' : `.${String(field)}`}`;
    throw new Error(`${where} ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const { secretArn } of parsed.data) {
    if (seen.has(secretArn)) throw new Error(`RESTARTS lists the secret ${secretArn} twice: give it one entry with all its services`);
    seen.add(secretArn);
  }
  return parsed.data;
}
