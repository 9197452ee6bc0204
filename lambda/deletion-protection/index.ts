import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { handleProtection, parseProperties, ProtectionClients, Waiting } from './protection';

// Each call is one small control-plane request; 10 s is far above their usual latency and well inside
// the function's timeout, so a hung connection fails the step with a message instead of a Lambda timeout.
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000 };
const clients: ProtectionClients = {
  cloudformation: new CloudFormationClient({ requestHandler }),
  rds: new RDSClient({ requestHandler }),
  elbv2: new ElasticLoadBalancingV2Client({ requestHandler }),
};
// RDS applies DeletionProtection at once; 12 reads 5 s apart (a minute) cover a slow describe.
const WAITING: Waiting = { intervalMs: 5_000, attempts: 12 };
const logger = new Logger();

/**
 * Deletion protection that cannot turn a failed first deploy into ROLLBACK_FAILED (see
 * lib/platform/deletion-protection.ts): on after creation, lifted only while the creation rolls back.
 */
export function createDeletionProtectionHandler(deps: ProtectionClients, waiting: Waiting = WAITING) {
  return async (event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> => {
    const props = parseProperties(event.ResourceProperties);
    const changed = await handleProtection(deps, event.RequestType, event.StackId, props, waiting);
    logger.info('deletion protection', { requestType: event.RequestType, changed });
    // One id for the resource's life: a changed target is an Update (protect the new one), not a replacement.
    return { PhysicalResourceId: event.RequestType === 'Create' ? `${event.LogicalResourceId}` : event.PhysicalResourceId };
  };
}

export const handler = createDeletionProtectionHandler(clients);
