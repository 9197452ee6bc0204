import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { asyncListener, readBody } from '../http-body';

/**
 * A stand-in for the Cognito user pools API on 127.0.0.1, speaking the AWS JSON 1.1
 * protocol as the Cognito API reference shapes it: `POST /` with
 * `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`, a JSON body, and
 * errors as HTTP 400 `{"__type": "<Exception>", "message": ...}`. It keeps one pool's
 * users and groups in memory, for the admin operations the chat app calls. Point the
 * SDK at it with `endpoint` (or `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`).
 */
export interface CognitoStandInUser {
  username: string;
  attributes: Record<string, string>;
  status: 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED';
  password?: string;
  groups: Set<string>;
  /** AdminDisableUser sets it false. @default true */
  enabled?: boolean;
}

export interface CognitoCall {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

export interface CognitoStandIn {
  readonly url: string;
  readonly userPoolId: string;
  /** Users by username. */
  readonly users: Map<string, CognitoStandInUser>;
  readonly groups: Set<string>;
  /** The pool as DescribeUserPool returns it; UpdateUserPool replaces its updatable part. */
  userPool: Record<string, unknown>;
  /** Every call received, in order. */
  readonly calls: CognitoCall[];
  /** Adds a user directly (as if signed up), returning its sub. */
  addUser(username: string, groups?: string[], attributes?: Record<string, string>): string;
  /**
   * Makes list pages shorter than Limit although more follow, which the Cognito API reference
   * allows ("might return fewer items than you specify ... If the response contains a token, there are more").
   */
  shortPages: boolean;
  /** Makes the next `times` calls of `operation` fail with this documented error. */
  failNext(operation: string, type: string, message: string, times?: number): void;
  close(): Promise<void>;
}

class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const epochSeconds = () => Math.floor(Date.now() / 1000);

export async function startCognitoStandIn(userPoolId = 'us-east-1_StandIn01'): Promise<CognitoStandIn> {
  const users = new Map<string, CognitoStandInUser>();
  const groups = new Set<string>();
  const calls: CognitoCall[] = [];
  const failures = new Map<string, { error: CognitoError; remaining: number }>();

  const state: CognitoStandIn = {
    url: '',
    userPoolId,
    users,
    groups,
    userPool: { Id: userPoolId, Name: 'stand-in', LambdaConfig: {} },
    calls,
    shortPages: false,
    addUser(username, groupNames = [], attributes = {}) {
      const sub = attributes.sub ?? randomUUID();
      users.set(username, { username, attributes: { ...attributes, sub }, status: 'CONFIRMED', groups: new Set(groupNames) });
      for (const g of groupNames) groups.add(g);
      return sub;
    },
    failNext(operation, type, message, times = 1) {
      failures.set(operation, { error: new CognitoError(type, message), remaining: times });
    },
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };

  const checkPool = (body: Record<string, unknown>) => {
    if (body.UserPoolId !== userPoolId) throw new CognitoError('ResourceNotFoundException', `User pool ${String(body.UserPoolId)} does not exist.`);
  };
  /** Admin operations accept the username or an alias (here: the e-mail). */
  const findUser = (name: unknown): CognitoStandInUser => {
    const user = users.get(String(name)) ?? [...users.values()].find((u) => u.attributes.email === name);
    if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    return user;
  };
  const attributeList = (u: CognitoStandInUser) => Object.entries(u.attributes).map(([Name, Value]) => ({ Name, Value }));
  const userType = (u: CognitoStandInUser, only?: readonly string[]) => ({
    Username: u.username,
    Attributes: attributeList(u).filter((a) => !only || only.includes(a.Name)),
    UserCreateDate: epochSeconds(),
    UserLastModifiedDate: epochSeconds(),
    Enabled: u.enabled !== false,
    UserStatus: u.status,
  });
  /** Limit: 0..60 (default 60), as the API reference's "Valid Range" says; anything else is a validation error. */
  const limitOf = (body: Record<string, unknown>): number => {
    if (body.Limit === undefined) return 60;
    if (!Number.isInteger(body.Limit) || (body.Limit as number) < 0 || (body.Limit as number) > 60) {
      throw new CognitoError(
        'InvalidParameterException',
        `1 validation error detected: Value '${String(body.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60`,
      );
    }
    return body.Limit as number;
  };
  /** Opaque tokens that name the request they belong to; a token from another list is refused. */
  const page = <T>(items: T[], body: Record<string, unknown>, tokenField: 'PaginationToken' | 'NextToken', scope: string): { items: T[]; token?: string } => {
    const limit = limitOf(body);
    let start = 0;
    if (body[tokenField] !== undefined) {
      const decoded = Buffer.from(String(body[tokenField]), 'base64url').toString('utf8').split('|');
      if (decoded.length !== 2 || decoded[0] !== scope || !/^\d+$/.test(decoded[1])) throw new CognitoError('InvalidParameterException', 'Invalid pagination token.');
      start = Number(decoded[1]);
    }
    const size = state.shortPages ? Math.max(1, Math.floor(limit / 2)) : limit;
    const end = start + size;
    return { items: items.slice(start, end), ...(end < items.length ? { token: Buffer.from(`${scope}|${end}`).toString('base64url') } : {}) };
  };
  const groupType = (name: string) => ({ GroupName: name, UserPoolId: userPoolId, Precedence: 0, CreationDate: epochSeconds(), LastModifiedDate: epochSeconds() });

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    AdminCreateUser(body) {
      checkPool(body);
      const username = String(body.Username);
      if (users.has(username) || [...users.values()].some((u) => u.attributes.email === username)) {
        throw new CognitoError('UsernameExistsException', 'User account already exists');
      }
      const attributes = Object.fromEntries(((body.UserAttributes ?? []) as { Name: string; Value: string }[]).map((a) => [a.Name, a.Value]));
      const user: CognitoStandInUser = { username, attributes: { ...attributes, sub: randomUUID() }, status: 'FORCE_CHANGE_PASSWORD', groups: new Set() };
      users.set(username, user);
      return { User: { Username: username, Attributes: attributeList(user), UserCreateDate: epochSeconds(), Enabled: true, UserStatus: user.status } };
    },
    AdminSetUserPassword(body) {
      checkPool(body);
      const user = findUser(body.Username);
      if (typeof body.Password !== 'string' || body.Password.length < 12) throw new CognitoError('InvalidPasswordException', 'Password does not conform to policy');
      user.password = body.Password;
      user.status = body.Permanent === true ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD';
      return {};
    },
    AdminAddUserToGroup(body) {
      checkPool(body);
      const user = findUser(body.Username);
      if (!groups.has(String(body.GroupName))) throw new CognitoError('ResourceNotFoundException', 'Group not found.');
      user.groups.add(String(body.GroupName));
      return {};
    },
    AdminGetUser(body) {
      checkPool(body);
      const user = findUser(body.Username);
      return { Username: user.username, UserAttributes: attributeList(user), UserStatus: user.status, Enabled: user.enabled !== false, UserCreateDate: epochSeconds() };
    },
    AdminDeleteUser(body) {
      checkPool(body);
      users.delete(findUser(body.Username).username);
      return {};
    },
    AdminListGroupsForUser(body) {
      checkPool(body);
      const all = [...findUser(body.Username).groups].sort();
      const limit = typeof body.Limit === 'number' ? body.Limit : 60;
      const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
      const page = all.slice(start, start + limit);
      return { Groups: page.map(groupType), ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}) };
    },
    ListUsers(body) {
      checkPool(body);
      if (body.Filter !== undefined) throw new CognitoError('InvalidParameterException', 'the stand-in does not implement Filter');
      const only = body.AttributesToGet as string[] | undefined;
      const all = [...users.values()].sort((a, b) => a.username.localeCompare(b.username));
      const { items, token } = page(all, body, 'PaginationToken', 'ListUsers');
      return { Users: items.map((u) => userType(u, only)), ...(token ? { PaginationToken: token } : {}) };
    },
    ListUsersInGroup(body) {
      checkPool(body);
      const group = String(body.GroupName);
      if (!groups.has(group)) throw new CognitoError('ResourceNotFoundException', 'Group not found.');
      const all = [...users.values()].filter((u) => u.groups.has(group)).sort((a, b) => a.username.localeCompare(b.username));
      const { items, token } = page(all, body, 'NextToken', `ListUsersInGroup:${group}`);
      return { Users: items.map((u) => userType(u)), ...(token ? { NextToken: token } : {}) };
    },
    AdminRemoveUserFromGroup(body) {
      checkPool(body);
      const user = findUser(body.Username);
      if (!groups.has(String(body.GroupName))) throw new CognitoError('ResourceNotFoundException', 'Group not found.');
      user.groups.delete(String(body.GroupName));
      return {};
    },
    DescribeUserPool(body) {
      checkPool(body);
      return { UserPool: structuredClone(state.userPool) };
    },
    UpdateUserPool(body) {
      checkPool(body);
      const { UserPoolId: _id, PoolName, ...settings } = body;
      // Like Cognito: settings left out of the request go back to their defaults (here: absent).
      state.userPool = { Id: userPoolId, Name: PoolName ?? state.userPool.Name, ...settings };
      return {};
    },
  };

  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      const raw = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      const handler = operations[operation];
      if (req.method !== 'POST' || !handler || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        return reply(400, { __type: 'UnknownOperationException', message: `unsupported ${req.method} ${target}` }, 'UnknownOperationException');
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        return reply(400, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
      }
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      calls.push({ operation, body });
      try {
        const failure = failures.get(operation);
        if (failure) {
          if (--failure.remaining <= 0) failures.delete(operation);
          throw failure.error;
        }
        reply(200, handler(body));
      } catch (err) {
        if (!(err instanceof CognitoError)) throw err;
        reply(400, { __type: err.type, message: err.message }, err.type);
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (state as { url: string }).url = `http://127.0.0.1:${port}`;
  return state;
}
