/**
 * Secrets Manager's end of a rotation as EventBridge delivers it: a CloudTrail service event
 * (source aws.secretsmanager, detail-type "AWS Service Event via CloudTrail", detail.eventName
 * RotationSucceeded), the rotated secret's ARN in detail.additionalEventData.SecretId (the
 * Secrets Manager user guide, "Log entries for rotation" and "Match events with EventBridge").
 */
export const ROTATION_EVENT = {
  source: 'aws.secretsmanager',
  detailType: 'AWS Service Event via CloudTrail',
  eventSource: 'secretsmanager.amazonaws.com',
  eventName: 'RotationSucceeded',
} as const;
