import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { loadMetadataDirectory, type MetadataOwnership } from '../../chat-domain/hasura-metadata-directory';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionVpcProps, functionCommonProps, functionVpcProps, REPO_ROOT } from '../constructs/chat-function';

/** The Hasura CLI metadata directory that the applier's bundle ships. */
export const HASURA_METADATA_DIR = path.join(REPO_ROOT, 'hasura-metadata');

/** sha256 over every file of the directory (relative path and content), in a stable order. */
export function metadataContentHash(dir: string = HASURA_METADATA_DIR): string {
  const hash = createHash('sha256');
  for (const file of listFiles(dir)) {
    hash.update(`${path.relative(dir, file).split(path.sep).join('/')}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []))
    .sort();
}

/** The applier runs in the VPC (`vpc`, `vpcSubnets`): it reaches the engine there, or through NAT. */
export interface HasuraMetadataApplyProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The engine's base URL (scheme, host, port; no path). */
  readonly endpoint: string;
  /** The engine's admin secret (a plain string); the applier may read it. */
  readonly adminSecret: secretsmanager.ISecret;
  /** `exclusive` for an engine created here, `shared` for an imported one (see apply.ts). */
  readonly ownership: MetadataOwnership;
}

/**
 * Applies hasura-metadata/ during deploy: a `Custom::HasuraMetadata` resource whose
 * properties carry the directory's content hash, so it runs again whenever the metadata
 * (or the endpoint) changes. The directory is read here too, so a broken directory fails
 * synth rather than the deploy.
 */
export class HasuraMetadataApply extends Construct {
  public readonly function: ChatFunction;
  public readonly resource: ChatCustomResource;
  public readonly metadataHash: string;

  constructor(scope: Construct, id: string, props: HasuraMetadataApplyProps) {
    super(scope, id);
    loadMetadataDirectory(HASURA_METADATA_DIR);
    this.metadataHash = metadataContentHash();

    this.function = new ChatFunction(this, 'Function', {
      ...functionCommonProps(props),
      entry: 'hasura-metadata-apply/index.ts',
      description: 'Applies hasura-metadata/ to Hasura GraphQL Engine during deploy',
      ...functionVpcProps(props),
      timeout: Duration.seconds(DEPLOY_STEPS.hasuraMetadata.timeoutSeconds),
      environment: { HASURA_ADMIN_SECRET_ARN: props.adminSecret.secretArn },
      bundleDirectories: ['hasura-metadata'],
    });
    props.adminSecret.grantRead(this.function.function);

    this.resource = new ChatCustomResource(this, 'CustomResource', {
      onEvent: this.function,
      resourceType: 'Custom::HasuraMetadata',
      properties: { Endpoint: props.endpoint, Ownership: props.ownership, MetadataHash: this.metadataHash },
    });
  }
}
