import { InvokeCommand, LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { ReconcilerInvoker } from './provisioner';

/**
 * Starts the membership reconciler asynchronously (InvocationType Event: Lambda queues the event
 * and answers 202 at once, and retries the run itself if it fails). Inside a trigger, so one retry
 * at most and 1 s per attempt, like the trigger's Cognito client.
 */
export function lambdaReconcilerInvoker(functionName: string, overrides: LambdaClientConfig = {}): ReconcilerInvoker {
  const client = new LambdaClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000 }, ...overrides });
  return async (payload, abortSignal) => {
    const answer = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }), { abortSignal });
    if (answer.StatusCode !== 202) throw new Error(`Lambda answered ${answer.StatusCode} to the asynchronous invocation of ${functionName}`);
  };
}
