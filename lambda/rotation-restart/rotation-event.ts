import { ROTATION_EVENT } from '../../chat-domain/rotation-event';

const DETAIL_TYPES: readonly string[] = ROTATION_EVENT.detailTypes;

/** The ARN of the secret a RotationSucceeded event reports; a clear error for anything else. */
export function rotatedSecretArn(event: unknown): string {
  const e = (event ?? {}) as { source?: unknown; 'detail-type'?: unknown; detail?: { eventSource?: unknown; eventName?: unknown; additionalEventData?: { SecretId?: unknown } } };
  if (e.source !== ROTATION_EVENT.source || typeof e['detail-type'] !== 'string' || !DETAIL_TYPES.includes(e['detail-type'])) {
    throw new Error(`not a Secrets Manager event from CloudTrail: source ${String(e.source)}, detail-type ${String(e['detail-type'])}`);
  }
  if (e.detail?.eventSource !== ROTATION_EVENT.eventSource || e.detail.eventName !== ROTATION_EVENT.eventName) {
    throw new Error(`not a RotationSucceeded event: ${String(e.detail?.eventSource)} ${String(e.detail?.eventName)}`);
  }
  const arn = e.detail.additionalEventData?.SecretId;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) throw new Error(`the RotationSucceeded event names no secret ARN (detail.additionalEventData.SecretId is ${JSON.stringify(arn)})`);
  return arn;
}
