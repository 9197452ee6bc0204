import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { asyncListener, readBody } from '../http-body';

/**
 * A stand-in for the Lambda Invoke API on 127.0.0.1, as the Lambda API reference shapes it
 * (REST-JSON): `POST /2015-03-31/functions/{FunctionName}/invocations`, the payload as the body,
 * `X-Amz-Invocation-Type: Event` answered 202 with an empty body (the function runs later),
 * errors as `{"Type": "User", "message": ...}` with `x-amzn-errortype`. `onEvent` gets each
 * asynchronous invocation, so a test can run the invoked handler itself.
 */
export interface LambdaInvocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: unknown;
}

export interface LambdaStandIn {
  readonly url: string;
  readonly invocations: LambdaInvocation[];
  /** Function names that exist (anything else is ResourceNotFoundException). */
  readonly functions: Set<string>;
  onEvent?: (invocation: LambdaInvocation) => void;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startLambdaStandIn(functionNames: string[]): Promise<LambdaStandIn> {
  const state: LambdaStandIn = {
    url: '',
    invocations: [],
    functions: new Set(functionNames),
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const error = (status: number, type: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify({ Type: 'User', message }));
      };
      const body = await readBody(req);
      const m = (req.url ?? '').split('?')[0].match(PATH);
      if (req.method !== 'POST' || !m) return error(404, 'UnknownOperationException', `unsupported ${req.method} ${req.url}`);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      const functionName = decodeURIComponent(m[1]);
      if (!state.functions.has(functionName)) return error(404, 'ResourceNotFoundException', `Function not found: ${functionName}`);
      const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      let payload: unknown;
      try {
        payload = body ? JSON.parse(body) : {};
      } catch {
        return error(400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      const invocation = { functionName, invocationType, payload };
      state.invocations.push(invocation);
      if (invocationType !== 'Event') return error(400, 'InvalidParameterValueException', 'the stand-in implements InvocationType Event only');
      res.writeHead(202, { 'x-amzn-requestid': randomUUID() });
      res.end();
      state.onEvent?.(invocation);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
