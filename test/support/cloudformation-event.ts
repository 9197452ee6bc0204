import { randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export interface CustomResourceEventOptions {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  /** e.g. `Custom::ChatMachineAccount` */
  readonly resourceType: string;
  /** ResourceProperties, ServiceToken included. */
  readonly properties: { ServiceToken: string } & Record<string, unknown>;
  /** PhysicalResourceId (Update, Delete), OldResourceProperties (Update). */
  readonly extra?: Record<string, unknown>;
}

/** A custom-resource request as CloudFormation sends it and the CDK provider framework passes it on. */
export function customResourceEvent(options: CustomResourceEventOptions): CloudFormationCustomResourceEvent {
  return {
    RequestType: options.requestType,
    ServiceToken: options.properties.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=x',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/PhenomChat-development/5f1a7c40-0000-4000-8000-000000000000',
    RequestId: randomUUID(),
    LogicalResourceId: `${options.resourceType.replace('Custom::', '')}Resource`,
    ResourceType: options.resourceType,
    ResourceProperties: options.properties,
    ...options.extra,
  } as CloudFormationCustomResourceEvent;
}
