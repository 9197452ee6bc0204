import { CONDITION_VALUES_PER_RULE } from '../../../../lib/chat-synapse/alb-rules';
import { SYNAPSE_WORKER_ROUTES, synapseWorkerRouteGroups, SynapseWorkerRouteGroup } from '../../../../lib/chat-synapse/workers';
import { albPathPatternMatches } from '../../../support/alb-rules';

const ALL_GROUPS = [...SYNAPSE_WORKER_ROUTES.media, ...SYNAPSE_WORKER_ROUTES.generic];
const layout = (counts: Record<string, number>, synapseVersion = '1.142.0') => ({ counts, discoveryDomain: 'synapse.phenom-prod.internal', synapseVersion, redis: { tls: false } });

const R = '!abcDEF:thephenom.app';
const E = '$eventid_abc-123';
const U = '@alice:thephenom.app';

/** Requests the docs/workers.md lists give to a worker kind: [method, path, group id]. */
const WORKER_REQUESTS: Array<[string, string, string]> = [
  ['GET', '/_matrix/client/v3/sync', 'generic-sync'],
  ['GET', '/_matrix/client/r0/sync', 'generic-sync'],
  ['GET', '/_matrix/client/v3/events', 'generic-sync'],
  ['GET', '/_matrix/client/r0/initialSync', 'generic-sync'],
  ['GET', `/_matrix/client/v3/rooms/${R}/initialSync`, 'generic-sync'],
  ['GET', `/_matrix/client/v3/rooms/${R}/messages`, 'generic-room-reads'],
  ['GET', `/_matrix/client/r0/rooms/${R}/messages`, 'generic-room-reads'],
  ['GET', `/_matrix/client/v3/rooms/${R}/context/${E}`, 'generic-room-reads'],
  ['GET', `/_matrix/client/v3/rooms/${R}/members`, 'generic-room-reads'],
  ['GET', `/_matrix/client/v3/rooms/${R}/joined_members`, 'generic-room-reads'],
  ['GET', `/_matrix/client/v3/rooms/${R}/event/${E}`, 'generic-room-reads-2'],
  ['GET', `/_matrix/client/v3/rooms/${R}/state`, 'generic-room-reads-2'],
  ['GET', `/_matrix/client/v1/rooms/${R}/relations/${E}`, 'generic-room-reads-2'],
  ['GET', `/_matrix/client/v1/rooms/${R}/relations/${E}/m.thread`, 'generic-room-reads-2'],
  ['GET', `/_matrix/client/v1/rooms/${R}/threads`, 'generic-room-reads-2'],
  ['POST', '/_matrix/client/v3/keys/query', 'generic-keys'],
  ['GET', '/_matrix/client/v3/keys/changes', 'generic-keys'],
  ['POST', '/_matrix/client/v3/keys/claim', 'generic-keys'],
  ['GET', '/_matrix/client/v3/joined_rooms', 'generic-keys'],
  ['GET', '/_matrix/client/versions', 'generic-client-info'],
  ['GET', '/_matrix/client/v3/capabilities', 'generic-client-info'],
  ['GET', '/_matrix/client/v3/account/whoami', 'generic-client-info'],
  ['POST', '/_matrix/client/v3/user_directory/search', 'generic-client-info'],
  ['GET', '/_matrix/client/v3/pushrules/', 'generic-get-only'],
  ['GET', '/_matrix/client/v3/pushrules/global/override/.m.rule.master', 'generic-get-only'],
  ['GET', `/_matrix/client/v3/user/${U}/account_data/m.direct`, 'generic-get-only'],
  ['GET', `/_matrix/client/v3/user/${U}/rooms/${R}/account_data/m.fully_read`, 'generic-get-only'],
  ['GET', `/_matrix/client/v3/presence/${U}/status`, 'generic-get-only'],
  ['POST', '/_matrix/media/v3/upload', 'media'],
  ['GET', '/_matrix/media/v3/download/thephenom.app/abcDEF', 'media'],
  ['GET', '/_matrix/media/r0/thumbnail/thephenom.app/abcDEF', 'media'],
  ['GET', '/_matrix/client/v1/media/download/thephenom.app/abcDEF', 'media'],
  ['GET', '/_matrix/client/v1/media/config', 'media'],
  ['GET', '/_matrix/federation/v1/media/download/abcDEF', 'media'],
  ['POST', '/_synapse/admin/v1/media/delete', 'media-admin'],
  ['POST', '/_synapse/admin/v1/purge_media_cache', 'media-admin'],
  ['POST', '/_synapse/admin/v1/quarantine_media/thephenom.app/abcDEF', 'media-admin'],
  ['GET', `/_synapse/admin/v1/users/${U}/media`, 'media-admin'],
  ['POST', `/_synapse/admin/v1/room/${R}/media/quarantine`, 'media-admin-2'],
  ['GET', `/_synapse/admin/v1/room/${R}/media`, 'media-admin-2'],
  ['POST', `/_synapse/admin/v1/user/${U}/media/quarantine`, 'media-admin-2'],
];

/** Requests only the main process serves (or that this app keeps there): no worker rule may take them. */
const MAIN_REQUESTS: Array<[string, string]> = [
  ['POST', '/_matrix/client/v3/login'],
  ['GET', '/_matrix/client/v3/login'],
  ['POST', '/_matrix/client/v3/logout'],
  ['POST', '/_matrix/client/v3/register'],
  ['GET', '/_matrix/client/v3/login/sso/redirect/oidc-cognito'],
  ['GET', '/_synapse/client/oidc/callback'],
  ['GET', '/_synapse/client/pick_idp'],
  ['POST', '/_matrix/client/v3/account/password'],
  ['POST', '/_matrix/client/r0/account/password/email/requestToken'],
  ['POST', '/_matrix/client/v3/createRoom'],
  ['PUT', `/_matrix/client/v3/rooms/${R}/send/m.room.message/txn1`],
  ['PUT', `/_matrix/client/v3/rooms/${R}/send/m.room.message/m1`],
  ['PUT', `/_matrix/client/v3/rooms/${R}/state/m.room.name/`],
  ['PUT', `/_matrix/client/v3/rooms/${R}/redact/${E}/txn2`],
  ['POST', `/_matrix/client/v3/rooms/${R}/join`],
  ['POST', `/_matrix/client/v3/rooms/${R}/invite`],
  ['POST', `/_matrix/client/v3/rooms/${R}/leave`],
  ['POST', `/_matrix/client/v3/join/${R}`],
  ['PUT', `/_matrix/client/v3/profile/${U}/displayname`],
  ['PUT', `/_matrix/client/v3/rooms/${R}/typing/${U}`],
  ['POST', `/_matrix/client/v3/rooms/${R}/receipt/m.read/${E}`],
  ['POST', `/_matrix/client/v3/rooms/${R}/read_markers`],
  ['PUT', `/_matrix/client/v3/sendToDevice/m.room.encrypted/txn3`],
  ['PUT', `/_matrix/client/v3/user/${U}/account_data/m.direct`],
  ['PUT', `/_matrix/client/v3/user/${U}/account_data/filter`],
  ['PUT', `/_matrix/client/v3/user/${U}/rooms/${R}/tags/m.favourite`],
  ['PUT', '/_matrix/client/v3/pushrules/global/override/.m.rule.master/enabled'],
  ['PUT', `/_matrix/client/v3/presence/${U}/status`],
  ['POST', '/_matrix/client/v3/keys/upload'],
  ['POST', '/_matrix/client/v3/keys/device_signing/upload'],
  ['POST', `/_matrix/client/v3/user/${U}/filter`],
  ['POST', `/_matrix/client/v3/rooms/${R}/report/${E}`],
  ['POST', `/_matrix/client/v3/rooms/${R}/upgrade`],
  ['GET', '/_matrix/client/v3/devices'],
  ['GET', '/_matrix/client/v3/publicRooms'],
  ['GET', `/_matrix/client/v3/directory/room/%23general:thephenom.app`],
  ['GET', '/_matrix/client/api/v1/initialSync'],
  ['GET', `/_matrix/client/unstable/rooms/${R}/messages`],
  ['GET', '/_matrix/federation/v1/version'],
  ['PUT', '/_matrix/federation/v1/send/txn4'],
  ['GET', '/_matrix/key/v2/server'],
  ['GET', '/.well-known/matrix/client'],
  ['GET', '/_synapse/admin/v1/users/@alice:thephenom.app'],
  ['GET', '/_synapse/admin/v2/users'],
  ['POST', `/_synapse/admin/v1/purge_history/${R}`],
  ['GET', `/_synapse/admin/v1/rooms/${R}`],
  ['GET', '/_synapse/admin/v1/register'],
  ['GET', '/health'],
  ['GET', '/chat-admin/'],
];

const ruleMatches = (g: SynapseWorkerRouteGroup, method: string, path: string) => (g.methods === undefined || g.methods.includes(method)) && g.pathPatterns.some((p) => albPathPatternMatches(p, path));
const matching = (method: string, path: string) => ALL_GROUPS.filter((g) => ruleMatches(g, method, path)).map((g) => g.id);

describe('Synapse worker routes (ALB path patterns)', () => {
  it('matches ALB wildcards as ELBv2 documents them: * any run, ? one character, case-sensitive, whole path', () => {
    expect(albPathPatternMatches('/a/*/c', '/a/b/x/c')).toBe(true);
    expect(albPathPatternMatches('/a/??/c', '/a/v3/c')).toBe(true);
    expect(albPathPatternMatches('/a/??/c', '/a/api/v1/c')).toBe(false);
    expect(albPathPatternMatches('/a/b', '/a/B')).toBe(false);
    expect(albPathPatternMatches('/a/b', '/a/b/c')).toBe(false);
    expect(albPathPatternMatches('/a.b', '/aXb')).toBe(false);
  });

  it('fits each group into one listener rule', () => {
    for (const g of ALL_GROUPS) {
      // the host header and the optional method condition take the rest
      const others = 1 + (g.methods ? g.methods.length : 0);
      expect(g.pathPatterns.length + others).toBeLessThanOrEqual(CONDITION_VALUES_PER_RULE);
      for (const p of g.pathPatterns) {
        expect(p.length).toBeLessThanOrEqual(128);
        expect(p).toMatch(/^\/[A-Za-z0-9_./*?-]+$/);
      }
    }
    expect(new Set(ALL_GROUPS.map((g) => g.id)).size).toBe(ALL_GROUPS.length);
  });

  it.each(WORKER_REQUESTS)('routes %s %s to its group only, and the docs regex agrees', (method, path, id) => {
    expect(matching(method, path)).toEqual([id]);
    const group = ALL_GROUPS.find((g) => g.id === id)!;
    expect(group.endpoints.some((re) => re.test(path))).toBe(true);
  });

  it.each(MAIN_REQUESTS)('leaves %s %s to the main process', (method, path) => {
    expect(matching(method, path)).toEqual([]);
  });

  it("never routes a path that the docs regexes of its group do not give to that worker: each pattern's own instances", () => {
    // A pattern stands for the paths its wildcards expand to: `??` the versions Synapse has there (r0,
    // v3; the test below covers the others), `*` an id segment. A `*` spanning several segments names
    // no endpoint of either process (the module's header): a 404 wherever it goes.
    const instances = (pattern: string) => ['r0', 'v3'].flatMap((version) => ['x', '!room:chat.test', '@user:chat.test'].map((segment) => pattern.replaceAll('??', version).replaceAll('*', segment)));
    for (const g of ALL_GROUPS) {
      for (const pattern of g.pathPatterns) {
        for (const path of instances(pattern)) expect([g.id, path, g.endpoints.some((re) => re.test(path))]).toEqual([g.id, path, true]);
      }
    }
  });

  it('also sends two-letter versions Synapse does not have to the worker: no process serves them (a 404 either way)', () => {
    // `??` stands for r0 and v3; the other two-letter prefixes Synapse has (v1) name no path these patterns match.
    expect(matching('GET', '/_matrix/client/V3/sync')).toEqual(['generic-sync']);
    expect(matching('GET', `/_matrix/client/v1/rooms/${R}/messages`)).toEqual(['generic-room-reads']);
  });

  it('gives the layout only the groups of the kinds it runs, media first (its admin rules precede the admin block)', () => {
    expect(synapseWorkerRouteGroups(layout({ 'federation-sender': 1, 'event-persister': 1 }))).toEqual([]);
    expect(synapseWorkerRouteGroups(layout({ generic: 2 })).map((g) => g.id)).toEqual(SYNAPSE_WORKER_ROUTES.generic.map((g) => g.id));
    expect(synapseWorkerRouteGroups(layout({ generic: 1, media: 1 })).map((g) => g.id)).toEqual(['media', 'media-admin', 'media-admin-2', ...SYNAPSE_WORKER_ROUTES.generic.map((g) => g.id)]);
  });

  it('leaves out what the release does not give its workers (docs/workers.md at each tag; 1.67 answered these M_UNRECOGNIZED)', () => {
    const patterns = (v: string) => synapseWorkerRouteGroups(layout({ generic: 1 }, v)).flatMap((g) => g.pathPatterns);
    const newer = ['/_matrix/client/v1/rooms/*/relations/*', '/_matrix/client/v1/rooms/*/threads', '/_matrix/client/??/capabilities'];
    expect(patterns('1.142.0')).toEqual(expect.arrayContaining(newer));
    expect(patterns('1.142.0')).toEqual(SYNAPSE_WORKER_ROUTES.generic.flatMap((g) => g.pathPatterns));
    expect(patterns('1.81.0')).toEqual(expect.arrayContaining(newer.slice(0, 2)));
    expect(patterns('1.81.0')).not.toContain('/_matrix/client/??/capabilities');
    expect(patterns('1.67.0').filter((p) => newer.includes(p))).toEqual([]);
    expect(patterns('1.67.0')).toContain('/_matrix/client/??/sync');
  });
});
