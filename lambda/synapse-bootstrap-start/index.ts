import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/**
 * Custom resource onEvent for the Synapse bootstrap: accepts the request and
 * names the resource. The work runs in the isComplete handler
 * (lambda/synapse-bootstrap), which the provider framework polls until Synapse
 * is healthy and the bootstrap has finished.
 */
export async function handler(event: CloudFormationCustomResourceEvent) {
  return { PhysicalResourceId: event.RequestType === 'Create' ? 'synapse-bootstrap' : event.PhysicalResourceId };
}
