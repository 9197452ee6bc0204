import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** What the start step hands the isComplete polls (the provider framework passes `Data` on to them). */
export interface BootstrapStartData {
  /** When this deploy started waiting for Synapse (ISO 8601); the polls give up a fixed time after it. */
  readonly WaitStartedAt: string;
}

/**
 * Custom resource onEvent for the Synapse bootstrap: accepts the request, names the resource
 * and stamps the start of the wait. The work runs in the isComplete handler
 * (lambda/synapse-bootstrap), which the provider framework polls until Synapse is healthy and
 * the bootstrap has finished. The framework counts polls, not time, and a poll can take a
 * while, so the stamp is what bounds the wait in wall time.
 */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data?: BootstrapStartData }> {
  const PhysicalResourceId = event.RequestType === 'Create' ? 'synapse-bootstrap' : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') return { PhysicalResourceId };
  return { PhysicalResourceId, Data: { WaitStartedAt: new Date().toISOString() } };
}
