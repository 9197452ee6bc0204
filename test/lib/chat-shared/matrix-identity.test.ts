import { spawnSync } from 'node:child_process';
import {
  mapUsernameToMxidLocalpart,
  matrixDisplayNameFor,
  matrixLocalpartFor,
  matrixUserIdCandidates,
  OidcProfileClaims,
  SYNAPSE_AUTH_PROVIDER_ID,
  SYNAPSE_DISPLAY_NAME_TEMPLATE,
  SYNAPSE_EMAIL_TEMPLATE,
  SYNAPSE_LOCALPART_TEMPLATE,
} from '../../../chat-domain/matrix-identity';
import { chatUserProfile } from '../../../chat-domain/profile';
import { buildHomeserverConfig } from '../../../lib/chat-synapse/homeserver-config';

/**
 * The Matrix identity a Cognito user gets from Synapse's OIDC mapping, predicted in TypeScript,
 * compared with what the homeserver itself renders:
 * - always: the templates rendered by Jinja2 (the library Synapse renders them with) in the
 *   environment Synapse builds for them (`finalize` turns None into ''), when python3 has jinja2;
 * - with SYNAPSE_PYTHON set to a Python that can import Synapse (e.g. the venv of a homeserver
 *   built from source): Synapse's own JinjaOidcMappingProvider.map_user_attributes, which also
 *   applies map_username_to_mxid_localpart and the "failures" suffix.
 */
const CASES: OidcProfileClaims[] = [
  { sub: 's1', email: 'Ada.Lovelace@Example.com' },
  { sub: 's2', email: 'ada@example.com', name: 'Ada Lovelace' },
  { sub: 's3', email: 'ada@example.com', preferred_username: 'AdaL' },
  { sub: 's4', email: 'ada@example.com', preferred_username: ' Bob ', name: '' },
  { sub: 's5', email: 'josé+chat@example.org' },
  { sub: 's6', email: '_under@example.org' },
  { sub: 's7', email: 'a=b@example.org' },
  { sub: 's8', email: 'İstanbul@example.org' },
  { sub: 's9', email: 'ΟΔΟΣ@example.org' },
  { sub: 's10', email: 'a@b@example.org', name: '   ' },
  { sub: 's11', email: 'x@example.org', preferred_username: '\u001cbob\u0085', name: '\ufeff' },
  { sub: 's12', email: 'Tab\tName@example.org' },
  { sub: 's13', email: '@example.org', preferred_username: 'carol' },
  { sub: 's14', email: 'dave@example.org', preferred_username: '' },
  { sub: 's15', name: 'No Mail' },
  { sub: 's16', email: '' },
  { sub: 's17', email: 'emoji😀@example.org' },
];

interface Rendered {
  readonly localpart?: string | null;
  readonly display_name?: string | null;
  readonly error?: string;
}

const TEMPLATES = { localpart_template: SYNAPSE_LOCALPART_TEMPLATE, display_name_template: SYNAPSE_DISPLAY_NAME_TEMPLATE, email_template: SYNAPSE_EMAIL_TEMPLATE };

function runPython(python: string, script: string, input: unknown): unknown {
  const out = spawnSync(python, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${python} failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as unknown;
}

/** Drops undefined claims, as an ID token simply lacks them. */
const asUserinfo = (c: OidcProfileClaims) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));

const hasJinja = spawnSync('python3', ['-c', 'import jinja2'], { encoding: 'utf8' }).status === 0;
const withJinja = hasJinja ? describe : describe.skip;

withJinja('Synapse OIDC templates rendered by Jinja2 (python3), compared with the TypeScript prediction', () => {
  // Synapse's environment for these templates (synapse/handlers/oidc.py): finalize maps None to ''.
  const script = [
    'import json, sys, jinja2',
    'env = jinja2.Environment(finalize=lambda t: t if t is not None else "")',
    'req = json.load(sys.stdin)',
    'ts = {k: env.from_string(v) for k, v in req["templates"].items()}',
    'out = []',
    'for user in req["cases"]:',
    '    try:',
    '        out.append({"localpart_source": ts["localpart_template"].render(user=user).strip(), "display_name": ts["display_name_template"].render(user=user).strip() or None})',
    '    except Exception as e:',
    '        out.append({"error": type(e).__name__})',
    'print(json.dumps(out))',
  ].join('\n');

  it('renders the display name Synapse would set, and never the e-mail address', () => {
    const rendered = runPython('python3', script, { templates: TEMPLATES, cases: CASES.map(asUserinfo) }) as (Rendered & { localpart_source?: string })[];
    rendered.forEach((r, i) => {
      const claims = CASES[i];
      if (r.error) {
        expect({ claims, localpart: matrixLocalpartFor(claims) }).toEqual({ claims, localpart: undefined });
        return;
      }
      expect({ claims, display: matrixDisplayNameFor(claims) }).toEqual({ claims, display: r.display_name });
      if (claims.email && r.display_name) expect(r.display_name).not.toContain('@');
    });
    expect(rendered.filter((r) => r.error).length).toBeGreaterThan(0); // the no-e-mail case fails in Jinja as in TS
  });
});

const SYNAPSE_PYTHON = process.env.SYNAPSE_PYTHON;
const withSynapse = SYNAPSE_PYTHON ? describe : describe.skip;

withSynapse("Synapse's own JinjaOidcMappingProvider (SYNAPSE_PYTHON), compared with the TypeScript prediction", () => {
  const script = [
    'import json, sys, synapse',
    'from synapse.handlers.oidc import JinjaOidcMappingProvider',
    'req = json.load(sys.stdin)',
    'provider = JinjaOidcMappingProvider(JinjaOidcMappingProvider.parse_config(req["templates"]))',
    'def run(coro):',
    '    try:',
    '        coro.send(None)',
    '    except StopIteration as done:',
    '        return done.value',
    '    raise RuntimeError("map_user_attributes awaited something")',
    'out = []',
    'for user in req["cases"]:',
    '    row = {"remote_user_id": provider.get_remote_user_id(user)}',
    '    try:',
    '        first = run(provider.map_user_attributes(user, None, 0))',
    '        second = run(provider.map_user_attributes(user, None, 2))',
    '        row.update(localpart=first["localpart"], display_name=first["display_name"], localpart_after_two_failures=second["localpart"])',
    '    except Exception as e:',
    '        row["error"] = type(e).__name__',
    '    out.append(row)',
    'print(json.dumps({"version": synapse.__version__, "rows": out}))',
  ].join('\n');

  it('predicts the localpart, the suffixed localparts, the display name and the external id exactly', () => {
    const { version, rows } = runPython(SYNAPSE_PYTHON!, script, { templates: TEMPLATES, cases: CASES.map(asUserinfo) }) as {
      version: string;
      rows: (Rendered & { remote_user_id: string; localpart_after_two_failures?: string })[];
    };
    const [major, minor] = version.split('.').map(Number);
    const options = { plusAllowed: major > 1 || minor >= 89 };
    rows.forEach((r, i) => {
      const claims = CASES[i];
      // The external id Synapse records is the sub claim (subject_claim's default).
      expect(r.remote_user_id).toBe(claims.sub);
      if (r.error || !r.localpart) {
        // Synapse refuses such a login (no localpart), so no account can exist for it.
        expect({ claims, localpart: matrixLocalpartFor(claims, options) }).toEqual({ claims, localpart: undefined });
        return;
      }
      expect({ claims, localpart: matrixLocalpartFor(claims, options), display: matrixDisplayNameFor(claims) }).toEqual({
        claims,
        localpart: r.localpart,
        display: r.display_name,
      });
      expect(matrixUserIdCandidates(claims, 'chat.test', 3, options)).toEqual([`@${r.localpart}:chat.test`, `@${r.localpart}1:chat.test`, `@${r.localpart_after_two_failures}:chat.test`]);
    });
  });
});

describe('the Matrix identity mapping', () => {
  it('escapes as the Matrix spec\'s "mapping from other character sets" says (Synapse\'s map_username_to_mxid_localpart)', () => {
    expect(mapUsernameToMxidLocalpart('Alice')).toBe('alice');
    expect(mapUsernameToMxidLocalpart('a=b')).toBe('a=3db');
    expect(mapUsernameToMxidLocalpart('_x')).toBe('=5fx');
    expect(mapUsernameToMxidLocalpart('jos\u00e9')).toBe('jos=c3=a9');
    expect(mapUsernameToMxidLocalpart('a b/c.d+e-f_g')).toBe('a=20b/c.d+e-f_g');
    // Synapse before 1.89 escapes '+' too.
    expect(mapUsernameToMxidLocalpart('a+b', { plusAllowed: false })).toBe('a=2bb');
  });

  it('the homeserver config uses these templates, and Synapse records users under oidc-<idp_id>', () => {
    const config = buildHomeserverConfig({ serverName: 'chat.example.com', publicBaseUrl: 'https://chat.example.com', awsRegion: 'us-east-1', historyRetentionDays: 90 });
    const [provider] = config.oidc_providers;
    expect(provider.user_mapping_provider.config).toEqual(TEMPLATES);
    expect(`oidc-${provider.idp_id}`).toBe(SYNAPSE_AUTH_PROVIDER_ID);
    expect(SYNAPSE_DISPLAY_NAME_TEMPLATE).not.toMatch(/user\.email\s*}}/);
  });

  it('gives Hasura Lite the same display name and a username that is not the e-mail address', () => {
    expect(chatUserProfile({ email: 'Ada.Lovelace@Example.com' }, 'uuid-1')).toEqual({ username: 'ada.lovelace', displayName: 'ada.lovelace' });
    expect(chatUserProfile({ email: 'ada@example.com', preferred_username: 'AdaL', name: 'Ada Lovelace' }, 'uuid-1')).toEqual({ username: 'AdaL', displayName: 'Ada Lovelace' });
    expect(chatUserProfile({}, 'grace.hopper')).toEqual({ username: 'grace.hopper', displayName: null });
    expect(chatUserProfile({ email: '  ', name: ' Grace ' }, 'uuid-2')).toEqual({ username: 'uuid-2', displayName: 'Grace' });
  });
});
