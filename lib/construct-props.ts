import * as logs from 'aws-cdk-lib/aws-logs';
import { ChatConfig } from './config';
import { ChatServiceCommonProps } from './constructs/chat-fargate-service';
import { Platform } from './platform';

/**
 * The one mapping from the config (and the platform built from it) to the props the chat
 * constructs take, so that no construct below the stack needs ChatConfig to know where it runs.
 */
export function chatServiceCommonProps(config: ChatConfig, platform: Platform): ChatServiceCommonProps {
  return {
    cluster: platform.cluster,
    vpcSubnets: platform.privateSubnets,
    prefix: config.prefix,
    architecture: config.images.architecture,
    logRetention: config.monitoring.logRetentionDays as logs.RetentionDays,
    retainLogs: config.production,
  };
}
