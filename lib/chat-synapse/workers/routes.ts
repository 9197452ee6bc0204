import { resolveLayout, SynapseWorkerKind, SynapseWorkerLayout } from './layout';
import { atLeast, parseSynapseVersion } from './version';

/**
 * One ALB listener rule's worth of routing to a worker kind. ALB path patterns are wildcards, not regexes
 * (`*` any run of characters, slashes included; `?` exactly one), case-sensitive, compared with the path
 * only; a rule holds at most 5 condition values, and the host header takes one of them, the method another.
 */
export interface SynapseWorkerRouteGroup {
  /** Stable id, for construct ids and the README's rule table. */
  readonly id: string;
  readonly kind: SynapseWorkerKind;
  readonly pathPatterns: readonly string[];
  /** Only these methods (an `http-request-method` condition); absent: any method. */
  readonly methods?: readonly string[];
  /**
   * A `/_synapse/admin/` path: the rule must carry the same Cognito sign-in (and source-CIDR allow-list) as the
   * admin rules, and sit before them (SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst).
   */
  readonly adminApi?: boolean;
  /**
   * The docs/workers.md regexes (v1.142.0) this group covers: a pattern may match less than they do, never an
   * endpoint none of them names (test/lib/chat-synapse/workers/routes.test.ts checks real request paths).
   */
  readonly endpoints: readonly RegExp[];
  /**
   * Patterns that docs/workers.md gives the workers only from a release on (`1.70.0`): synapseWorkerRouteGroups
   * leaves them out for an older layout, whose workers answer them M_UNRECOGNIZED (seen on 1.67).
   */
  readonly since?: Readonly<Record<string, string>>;
  readonly why: string;
}

/**
 * `??` stands for the two-letter API versions (r0, v3): the legacy `api/v1` and `unstable` prefixes stay on the
 * main process, which serves everything. It also matches prefixes Synapse does not have (`V3`, `v2`) or has
 * no such path under (`v1/rooms/{id}/messages`): a 404 from the worker as from the main process, and half the
 * rules that spelling out r0 and v3 would take. Where a docs regex has `[^/]+` the pattern has `*`, which also spans
 * slashes; no endpoint the workers cannot serve has such a path (the tests list the main-only ones).
 *
 * Left on the main process on purpose:
 * - event sending (`/send`, `/state/` writes, membership, `/redact`, `/profile`): the A/B send metrics are
 *   scraped from the main task (metrics-sidecar.ts), and a generic worker would only forward the event anyway;
 * - login, registration and every SSO path: docs/workers.md wants all SSO on one process;
 * - `/user/{id}/filter`: as a wildcard it would also catch `PUT .../account_data/filter`, a write the workers
 *   cannot take (the account_data stream writer is the main process);
 * - inbound federation (`/_matrix/federation/*`, `/_matrix/key/*`): federation is open (no
 *   federation_domain_whitelist), but its inbound traffic is other servers' transactions for three rooms,
 *   far less than the clients' /sync; the catch-all gives it to the main process. Outbound federation is
 *   the federation sender's (workers.federationSenders).
 */
const GENERIC_GROUPS: SynapseWorkerRouteGroup[] = [
  {
    id: 'generic-sync',
    kind: 'generic',
    pathPatterns: ['/_matrix/client/??/sync', '/_matrix/client/??/events', '/_matrix/client/??/initialSync', '/_matrix/client/??/rooms/*/initialSync'],
    endpoints: [
      /^\/_matrix\/client\/(r0|v3)\/sync$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3)\/events$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3)\/initialSync$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3)\/rooms\/[^/]+\/initialSync$/,
    ],
    why: 'Sync requests: the long polls that make one process the ceiling.',
  },
  {
    id: 'generic-room-reads',
    kind: 'generic',
    pathPatterns: ['/_matrix/client/??/rooms/*/messages', '/_matrix/client/??/rooms/*/context/*', '/_matrix/client/??/rooms/*/members', '/_matrix/client/??/rooms/*/joined_members'],
    endpoints: [
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/messages$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/context\/.*$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/members$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/joined_members$/,
    ],
    // docs/workers.md: pagination of one room should stay on one instance while the purge history admin API
    // runs. The ALB cannot hash on the room id; purges run on the main process either way (retention jobs and
    // the purge Lambda), so an in-process lock never covered them: a page read during a purge may miss events.
    why: 'Room history (/messages), event context and member lists.',
  },
  {
    id: 'generic-room-reads-2',
    kind: 'generic',
    pathPatterns: ['/_matrix/client/??/rooms/*/event/*', '/_matrix/client/??/rooms/*/state', '/_matrix/client/v1/rooms/*/relations/*', '/_matrix/client/v1/rooms/*/threads'],
    since: { '/_matrix/client/v1/rooms/*/relations/*': '1.70.0', '/_matrix/client/v1/rooms/*/threads': '1.70.0' },
    endpoints: [
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/event\//,
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/rooms\/.*\/state$/,
      /^\/_matrix\/client\/(v1|unstable)\/rooms\/.*\/relations\//,
      /^\/_matrix\/client\/v1\/rooms\/.*\/threads$/,
    ],
    why: 'Single events, full room state, relations and threads.',
  },
  {
    id: 'generic-keys',
    kind: 'generic',
    pathPatterns: ['/_matrix/client/??/keys/query', '/_matrix/client/??/keys/changes', '/_matrix/client/??/keys/claim', '/_matrix/client/??/joined_rooms'],
    endpoints: [
      /^\/_matrix\/client\/(r0|v3|unstable)\/keys\/query$/,
      /^\/_matrix\/client\/(r0|v3|unstable)\/keys\/changes$/,
      /^\/_matrix\/client\/(r0|v3|unstable)\/keys\/claim$/,
      /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/joined_rooms$/,
    ],
    why: 'Encryption key reads, and the joined-room list.',
  },
  {
    id: 'generic-client-info',
    kind: 'generic',
    pathPatterns: ['/_matrix/client/versions', '/_matrix/client/??/capabilities', '/_matrix/client/??/account/whoami', '/_matrix/client/??/user_directory/search'],
    since: { '/_matrix/client/??/capabilities': '1.82.0' },
    endpoints: [
      /^\/_matrix\/client\/versions$/,
      /^\/_matrix\/client\/(r0|v3|unstable)\/capabilities$/,
      /^\/_matrix\/client\/(r0|v3|unstable)\/account\/whoami$/,
      /^\/_matrix\/client\/(r0|v3|unstable)\/user_directory\/search$/,
    ],
    why: 'What every client asks at start, and user search.',
  },
  {
    id: 'generic-get-only',
    kind: 'generic',
    methods: ['GET'],
    pathPatterns: ['/_matrix/client/??/pushrules/*', '/_matrix/client/??/user/*/account_data/*', '/_matrix/client/??/presence/*'],
    endpoints: [/^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/pushrules\//, /^\/_matrix\/client\/(r0|v3|unstable)\/.*\/account_data/, /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/presence\//],
    why: 'Reads whose writes belong to a stream writer (the main process): only GET goes to the workers.',
  },
];

const MEDIA_GROUPS: SynapseWorkerRouteGroup[] = [
  {
    id: 'media',
    kind: 'media',
    pathPatterns: ['/_matrix/media/*', '/_matrix/client/v1/media/*', '/_matrix/federation/v1/media/*'],
    endpoints: [/^\/_matrix\/media\//, /^\/_matrix\/client\/v1\/media\//, /^\/_matrix\/federation\/v1\/media\//],
    why: 'Uploads, downloads and thumbnails: with enable_media_repo false, the main process serves none of them.',
  },
  {
    id: 'media-admin',
    kind: 'media',
    adminApi: true,
    pathPatterns: ['/_synapse/admin/v1/media/*', '/_synapse/admin/v1/purge_media_cache', '/_synapse/admin/v1/quarantine_media/*', '/_synapse/admin/v1/users/*/media'],
    endpoints: [/^\/_synapse\/admin\/v1\/media\/.*$/, /^\/_synapse\/admin\/v1\/purge_media_cache$/, /^\/_synapse\/admin\/v1\/quarantine_media\/.*$/, /^\/_synapse\/admin\/v1\/users\/.*\/media$/],
    why: 'The media admin API lives with the media repository.',
  },
  {
    id: 'media-admin-2',
    kind: 'media',
    adminApi: true,
    pathPatterns: ['/_synapse/admin/v1/room/*/media*', '/_synapse/admin/v1/user/*/media*'],
    endpoints: [/^\/_synapse\/admin\/v1\/room\/.*\/media.*$/, /^\/_synapse\/admin\/v1\/user\/.*\/media.*$/],
    why: 'The media admin API lives with the media repository.',
  },
];

/**
 * The worker rules in evaluation order (give them ascending priorities in this order). All sit before the main
 * process's catch-all (SYNAPSE_RULE_PRIORITIES.synapse); the adminApi ones also before the admin rules. The
 * groups' patterns do not overlap, so the order inside the worker block only has to be kept, not reasoned about.
 * Kinds without HTTP routes (federation-sender, event-persister) and kinds the layout runs none of get none.
 */
export function synapseWorkerRouteGroups(layout: SynapseWorkerLayout): SynapseWorkerRouteGroup[] {
  const { counts, version } = resolveLayout(layout, '');
  const served = (pattern: string, since?: Readonly<Record<string, string>>) => {
    const first = since?.[pattern];
    if (!first) return true;
    const v = parseSynapseVersion(first);
    return atLeast(version, v.major, v.minor);
  };
  return [...(counts.media > 0 ? MEDIA_GROUPS : []), ...(counts.generic > 0 ? GENERIC_GROUPS : [])]
    .map((g) => ({ ...g, pathPatterns: g.pathPatterns.filter((p) => served(p, g.since)) }))
    .filter((g) => g.pathPatterns.length > 0);
}

/** Every route group this module knows, whatever the layout (for the README and the tests). */
export const SYNAPSE_WORKER_ROUTES: Readonly<Record<'generic' | 'media', readonly SynapseWorkerRouteGroup[]>> = { generic: GENERIC_GROUPS, media: MEDIA_GROUPS };
