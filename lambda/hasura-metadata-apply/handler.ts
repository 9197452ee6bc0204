import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { applyMetadata, MetadataOwnership } from './apply';
import { HasuraClient } from '../../chat-clients/hasura-client';
import { loadMetadataDirectory } from '../../chat-domain/hasura-metadata-directory';
import { handlerDeadline } from '../../chat-domain/deploy-step-limits';

/** The custom resource's properties (set by lib/chat-hasura-lite/metadata.ts). */
export interface ApplyProperties {
  /** Base URL of the engine's metadata API host, e.g. http://hasura.phenom-development.internal:8080. */
  readonly Endpoint: string;
  readonly Ownership: MetadataOwnership;
  /** sha256 of the metadata directory: a change makes CloudFormation send an Update. */
  readonly MetadataHash: string;
}

export interface HandlerDeps {
  /** The metadata directory shipped in the bundle. */
  readonly metadataDir: string;
  readonly adminSecret: () => Promise<string>;
  readonly log: (message: string, details?: Record<string, unknown>) => void;
  /** Pause between /healthz polls. @default 5000 */
  readonly healthPollMs?: number;
  /** Time kept back from the Lambda's remaining time to report a failure cleanly. @default HANDLER_REPORT_MARGIN_MS */
  readonly safetyMarginMs?: number;
}

export interface CustomResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** One physical id for the life of the resource: an Update never replaces (and so never "deletes") it. */
const PHYSICAL_ID = 'hasura-metadata';

/**
 * onEvent of the provider framework: Create and Update apply the metadata, Delete
 * leaves the engine's metadata alone (a created engine is torn down with the stack;
 * a shared engine keeps tracking the tables, which stay in the database).
 */
export function createHandler(deps: HandlerDeps) {
  return async (event: CloudFormationCustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResponse> => {
    const physicalId = event.RequestType === 'Create' ? PHYSICAL_ID : event.PhysicalResourceId;
    if (event.RequestType === 'Delete') {
      deps.log('delete: leaving the Hasura metadata in place');
      return { PhysicalResourceId: physicalId };
    }
    const props = parseProperties(event.ResourceProperties);
    const metadata = loadMetadataDirectory(deps.metadataDir);
    const deadline = handlerDeadline(context, deps.safetyMarginMs);
    const client = new HasuraClient({ endpoint: props.Endpoint, adminSecret: await deps.adminSecret(), deadline });
    const result = await applyMetadata({
      client,
      metadata,
      ownership: props.Ownership,
      deadline,
      healthPollMs: deps.healthPollMs,
      log: deps.log,
    });
    return {
      PhysicalResourceId: physicalId,
      Data: {
        TablesTracked: result.tables.join(','),
        MetadataHash: props.MetadataHash,
        ResourceVersion: String(result.resourceVersion),
      },
    };
  };
}

function parseProperties(raw: Record<string, unknown>): ApplyProperties {
  const { Endpoint, Ownership, MetadataHash } = raw;
  if (typeof Endpoint !== 'string' || !/^https?:\/\//.test(Endpoint)) {
    throw new Error(`the Endpoint property must be the engine's http(s) base URL, got ${JSON.stringify(Endpoint)}`);
  }
  if (Ownership !== 'exclusive' && Ownership !== 'shared') {
    throw new Error(`the Ownership property must be "exclusive" or "shared", got ${JSON.stringify(Ownership)}`);
  }
  if (typeof MetadataHash !== 'string' || !MetadataHash) throw new Error('the MetadataHash property is missing');
  return { Endpoint, Ownership, MetadataHash };
}
