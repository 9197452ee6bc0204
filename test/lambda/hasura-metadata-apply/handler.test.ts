import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { parse } from 'yaml';
import { createHandler } from '../../../lambda/hasura-metadata-apply/handler';
import { HasuraClient } from '../../../chat-clients/hasura-client';
import { startSilentHttpServer } from '../../support/net';
import { HasuraStandIn } from './hasura-stand-in';

const METADATA_DIR = join(__dirname, '../../../hasura-metadata');
const ADMIN_SECRET = 'stand-in-admin-secret';

/**
 * The directory's content read file by file with the YAML parser alone (not the loader
 * under test): databases.yaml's source, with tables.yaml's `!include` entries replaced by
 * the table files they name. The other top-level files of the directory are all empty.
 */
function directoryContent(): Record<string, unknown> {
  const read = (...p: string[]) => parse(readFileSync(join(METADATA_DIR, ...p), 'utf8'));
  const [source] = read('databases', 'databases.yaml') as Record<string, unknown>[];
  const includes = read('databases', 'default', 'tables', 'tables.yaml') as string[];
  const tables = includes.map((line) => read('databases', 'default', 'tables', line.replace('!include ', '')));
  return { version: 3, sources: [{ ...source, tables }] };
}

function event(type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/PhenomChat-development/1',
    RequestId: 'req-1',
    LogicalResourceId: 'HasuraMetadata',
    ResourceType: 'Custom::HasuraMetadata',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ...props },
  };
  if (type === 'Create') return { ...base, RequestType: 'Create' };
  if (type === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: 'hasura-metadata', OldResourceProperties: base.ResourceProperties };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: 'hasura-metadata' };
}

const context = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });

describe('hasura-metadata-apply handler against a stand-in Hasura', () => {
  let hasura: HasuraStandIn;
  const logs: string[] = [];
  const handlerFor = (secret = ADMIN_SECRET) => createHandler({ metadataDir: METADATA_DIR, adminSecret: async () => secret, log: (m) => logs.push(m), healthPollMs: 20, safetyMarginMs: 0 });
  const props = (overrides: Record<string, unknown> = {}) => ({ Endpoint: hasura.url, Ownership: 'exclusive', MetadataHash: 'abc123', ...overrides });

  beforeEach(async () => {
    hasura = new HasuraStandIn(ADMIN_SECRET);
    await hasura.start();
  });
  afterEach(() => hasura.stop());

  it('replaces the metadata with exactly the directory content, then reloads and checks consistency', async () => {
    const result = await handlerFor()(event('Create', props()), context());

    expect(hasura.operations).toEqual(['replace_metadata', 'reload_metadata', 'get_inconsistent_metadata', 'export_metadata']);
    const replace = hasura.calls.find((c) => c.body?.type === 'replace_metadata')!;
    expect(replace.adminSecret).toBe(ADMIN_SECRET);
    expect(replace.body).toEqual({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: false, metadata: directoryContent() } });
    const reload = hasura.calls.find((c) => c.body?.type === 'reload_metadata')!;
    expect(reload.body!.args).toEqual({ reload_remote_schemas: true, reload_sources: true, recreate_event_triggers: true });
    expect(hasura.metadata).toEqual(directoryContent());
    expect(result.PhysicalResourceId).toBe('hasura-metadata');
    // replace_metadata reports no resource_version; the handler reads the one the apply left.
    expect(result.Data!.ResourceVersion).toBe(String(hasura.resourceVersion));
    expect(result.Data!.TablesTracked.split(',')).toEqual(
      expect.arrayContaining(['public.chat_rooms', 'public.chat_messages', 'public.chat_members', 'public.chat_bans', 'public.link_previews', 'public.users']),
    );
  });

  it('is idempotent: applying twice leaves the same metadata and sends the same payload', async () => {
    await handlerFor()(event('Create', props()), context());
    const first = hasura.metadata;
    await handlerFor()(event('Update', props()), context());
    expect(hasura.metadata).toEqual(first);
    const replaces = hasura.calls.filter((c) => c.body?.type === 'replace_metadata').map((c) => c.body);
    expect(replaces).toHaveLength(2);
    expect(replaces[1]).toEqual(replaces[0]);
  });

  it('keeps the physical id on Update, so CloudFormation never deletes the resource', async () => {
    const result = await handlerFor()(event('Update', props()), context());
    expect(result.PhysicalResourceId).toBe('hasura-metadata');
  });

  it('waits while /healthz is not yet 200, then applies', async () => {
    hasura.unhealthyPolls = 3;
    await handlerFor()(event('Create', props()), context());
    expect(hasura.calls.filter((c) => c.path === '/healthz')).toHaveLength(4);
    expect(hasura.operations[0]).toBe('replace_metadata');
  });

  it('fails with a clear message when the engine never becomes healthy before the deadline', async () => {
    hasura.unhealthyPolls = Number.MAX_SAFE_INTEGER;
    await expect(handlerFor()(event('Create', props()), context(300))).rejects.toThrow(/did not answer 200 on \/healthz/);
    expect(hasura.operations).toEqual([]);
  });

  it('is refused by Hasura, and fails the deploy, when a permission is defined for the reserved role admin', async () => {
    // The repository's directory applies (first test); the same directory with one permission
    // named `admin` instead of `chat_admin` is what Hasura rejects (graphql-engine PR #312).
    const dir = mkdtempSync(join(tmpdir(), 'hasura-metadata-'));
    try {
      cpSync(METADATA_DIR, dir, { recursive: true });
      const file = join(dir, 'databases', 'default', 'tables', 'public_chat_bans.yaml');
      const yaml = readFileSync(file, 'utf8');
      expect(yaml).toMatch(/^ {2}- role: chat_admin$/m);
      writeFileSync(file, yaml.replace(/^ {2}- role: chat_admin$/m, '  - role: admin'));
      const apply = createHandler({ metadataDir: dir, adminSecret: async () => ADMIN_SECRET, log: () => undefined, healthPollMs: 20, safetyMarginMs: 0 });
      await expect(apply(event('Create', props()), context())).rejects.toThrow(/insert_permission admin in table chat_bans in source default: .*cannot define permission for admin role/);
      expect(hasura.metadata).toEqual({ version: 3, sources: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the list of inconsistent objects when Hasura answers 400 "inconsistent metadata"', async () => {
    hasura.inconsistencies = [
      {
        definition: { schema: 'public', name: 'chat_messages' },
        name: 'table chat_messages in source default',
        reason: 'Inconsistent object: no such table/view exists in source: "chat_messages"',
        type: 'table',
      },
      {
        definition: { name: 'room', source: 'default', table: { schema: 'public', name: 'chat_messages' } },
        name: 'object_relation room in table chat_messages in source default',
        reason: 'Inconsistent object: in table "chat_messages": in relationship "room": no foreign constraint exists on the given column',
        type: 'object_relation',
      },
    ];
    const failure = handlerFor()(event('Create', props()), context());
    await expect(failure).rejects.toThrow(/replace_metadata: Hasura reports 2 inconsistent metadata object\(s\)/);
    await expect(failure).rejects.toThrow(/table chat_messages in source default: Inconsistent object: no such table\/view exists/);
    await expect(failure).rejects.toThrow(/object_relation room in table chat_messages in source default: .*no foreign constraint/);
    expect(hasura.operations).toEqual(['replace_metadata']);
  });

  it('fails with a clear reason on a 409 conflict', async () => {
    hasura.answerOnce('replace_metadata', {
      status: 409,
      body: { path: '$', error: 'metadata resource version referenced (2) did not match current version', code: 'conflict' },
    });
    await expect(handlerFor()(event('Create', props()), context())).rejects.toThrow(
      /replace_metadata: Hasura answered 409 conflict \(metadata resource version referenced \(2\) did not match current version\).*re-run the deploy/,
    );
  });

  it('fails when reload_metadata reports the metadata inconsistent', async () => {
    hasura.answerOnce('reload_metadata', {
      status: 200,
      body: {
        is_consistent: false,
        message: 'success',
        inconsistent_objects: [{ type: 'event_trigger', name: 'event_trigger chat_messages_link_preview', reason: 'environment variable LINK_PREVIEW_WEBHOOK_URL not set' }],
      },
    });
    await expect(handlerFor()(event('Create', props()), context())).rejects.toThrow(
      /reload_metadata: Hasura reports 1 inconsistent metadata object\(s\):\n {2}- event_trigger chat_messages_link_preview: environment variable LINK_PREVIEW_WEBHOOK_URL not set/,
    );
  });

  it('fails when get_inconsistent_metadata lists objects after the reload', async () => {
    hasura.answerOnce('get_inconsistent_metadata', {
      status: 200,
      body: { is_consistent: false, inconsistent_objects: [{ type: 'table', name: 'table public.users in source default', reason: 'no such table/view exists in source' }] },
    });
    await expect(handlerFor()(event('Create', props()), context())).rejects.toThrow(
      /get_inconsistent_metadata: Hasura reports 1 inconsistent.*\n.*table public.users in source default: no such table/,
    );
  });

  it('says the admin secret is wrong when Hasura denies access', async () => {
    await expect(handlerFor('not-the-secret')(event('Create', props()), context())).rejects.toThrow(/refused the admin secret \(401 access-denied/);
  });

  it('reports other 400 answers with Hasura code, error and path', async () => {
    hasura.answerOnce('replace_metadata', { status: 400, body: { path: '$.args.metadata.sources[0]', error: 'parsing Text failed', code: 'parse-failed' } });
    await expect(handlerFor()(event('Create', props()), context())).rejects.toThrow(/400 parse-failed: parsing Text failed at \$\.args\.metadata\.sources\[0\]/);
  });

  it('does nothing on Delete', async () => {
    const result = await handlerFor()(event('Delete', props()), context());
    expect(result.PhysicalResourceId).toBe('hasura-metadata');
    expect(hasura.calls).toEqual([]);
  });

  it('rejects bad properties with a message naming them', async () => {
    await expect(handlerFor()(event('Create', props({ Endpoint: 'hasura:8080' })), context())).rejects.toThrow(/Endpoint property must be the engine's http\(s\) base URL/);
    await expect(handlerFor()(event('Create', props({ Ownership: 'mine' })), context())).rejects.toThrow(/Ownership property must be "exclusive" or "shared"/);
    await expect(handlerFor()(event('Create', props({ MetadataHash: '' })), context())).rejects.toThrow(/MetadataHash property is missing/);
    expect(hasura.calls).toEqual([]);
  });

  it('fails clearly when nothing listens at the endpoint', async () => {
    const url = hasura.url;
    await hasura.stop();
    await expect(handlerFor()(event('Create', { Endpoint: url, Ownership: 'exclusive', MetadataHash: 'x' }), context(200))).rejects.toThrow(/did not answer 200 on \/healthz/);
  });

  it('does not take a 404 on /healthz for a created engine', async () => {
    hasura.healthzStatus = 404;
    // The last try gets only what is left of the deadline, so on a loaded machine it may be cut
    // short ("no answer"); what matters is that the 404s it did get were not taken as healthy.
    await expect(handlerFor()(event('Create', props()), context(1_000))).rejects.toThrow(/did not answer 200 on \/healthz after \d+ tries \(last: (404|no answer)\)/);
    expect(hasura.calls.filter((c) => c.path === '/healthz').length).toBeGreaterThan(0);
    expect(hasura.calls.filter((c) => c.body?.type === 'replace_metadata')).toEqual([]);
  });

  describe('shared engine (config.hasura.mode "import")', () => {
    const phenomTable = { table: { name: 'phenoms', schema: 'public' }, select_permissions: [{ role: 'user', permission: { columns: ['id'], filter: {} } }] };
    const phenomUsers = { table: { name: 'users', schema: 'public' }, select_permissions: [{ role: 'user', permission: { columns: ['id', 'email'], filter: {} } }] };
    const existingSource = {
      name: 'default',
      kind: 'postgres',
      configuration: { connection_info: { database_url: { from_env: 'HASURA_GRAPHQL_DATABASE_URL' }, pool_settings: { max_connections: 50 } } },
      tables: [phenomTable, phenomUsers, { table: { name: 'chat_rooms', schema: 'public' } }],
    };
    const existingRemoteSchema = { name: 'payments', definition: { url_from_env: 'PAYMENTS_URL', timeout_seconds: 60 } };

    beforeEach(() => {
      hasura.metadata = { version: 3, sources: [existingSource], remote_schemas: [existingRemoteSchema] };
      hasura.resourceVersion = 7;
    });

    it('merges the chat tables into the existing source and keeps everything else', async () => {
      await handlerFor()(event('Create', props({ Ownership: 'shared' })), context());
      expect(hasura.operations).toEqual(['export_metadata', 'replace_metadata', 'reload_metadata', 'get_inconsistent_metadata', 'export_metadata']);
      const replace = hasura.calls.find((c) => c.body?.type === 'replace_metadata')!.body!;
      expect(replace.resource_version).toBe(7);

      const ours = (directoryContent().sources as { tables: { table: { name: string } }[] }[])[0].tables;
      const merged = hasura.metadata as { sources: (typeof existingSource)[]; remote_schemas: unknown[] };
      expect(merged.remote_schemas).toEqual([existingRemoteSchema]);
      expect(merged.sources).toHaveLength(1);
      expect(merged.sources[0].configuration).toEqual(existingSource.configuration);
      const byName = new Map(merged.sources[0].tables.map((t) => [t.table.name, t]));
      expect(byName.get('phenoms')).toEqual(phenomTable);
      // users belongs to the Phenom backend where it is already tracked.
      expect(byName.get('users')).toEqual(phenomUsers);
      // The stale chat_rooms entry is replaced by ours.
      expect(byName.get('chat_rooms')).toEqual(ours.find((t) => t.table.name === 'chat_rooms'));
      for (const name of ['chat_messages', 'chat_members', 'chat_bans', 'link_previews']) {
        expect(byName.get(name)).toEqual(ours.find((t) => t.table.name === name));
      }
      expect(merged.sources[0].tables).toHaveLength(7);
    });

    it('accepts a proxy that does not route /healthz, and says so when /v1/metadata is not reachable either', async () => {
      hasura.healthzStatus = 404;
      hasura.answerOnce('export_metadata', { status: 404, body: { path: '$', error: 'resource does not exist', code: 'not-found' } });
      await expect(handlerFor()(event('Create', props({ Ownership: 'shared' })), context())).rejects.toThrow(
        /export_metadata: resource does not exist \(404\): the metadata API is not reachable at this address/,
      );
      await handlerFor()(event('Create', props({ Ownership: 'shared' })), context());
      expect(hasura.operations.slice(-4)).toEqual(['replace_metadata', 'reload_metadata', 'get_inconsistent_metadata', 'export_metadata']);
    });

    it('re-reads and merges again after a 409 conflict, then succeeds', async () => {
      hasura.answerOnce('replace_metadata', { status: 409, body: { path: '$', error: 'metadata resource version referenced (7) did not match current version', code: 'conflict' } });
      await handlerFor()(event('Create', props({ Ownership: 'shared' })), context());
      expect(hasura.operations).toEqual(['export_metadata', 'replace_metadata', 'export_metadata', 'replace_metadata', 'reload_metadata', 'get_inconsistent_metadata', 'export_metadata']);
    });

    it('gives up with the conflict reason when the metadata keeps changing', async () => {
      for (let i = 0; i < 4; i++) {
        hasura.answerOnce('replace_metadata', { status: 409, body: { path: '$', error: 'metadata resource version referenced (7) did not match current version', code: 'conflict' } });
      }
      await expect(handlerFor()(event('Create', props({ Ownership: 'shared' })), context())).rejects.toThrow(/409 conflict/);
      expect(hasura.operations.filter((o) => o === 'replace_metadata')).toHaveLength(4);
    });
  });
});

describe('HasuraClient within a deadline', () => {
  it('cuts a metadata call to the time left, so an engine that never answers fails the step before its Lambda timeout', async () => {
    const silent = await startSilentHttpServer();
    try {
      const client = new HasuraClient({ endpoint: silent.url, adminSecret: ADMIN_SECRET, deadline: Date.now() + 400 });
      const started = Date.now();
      await expect(client.metadata({ type: 'replace_metadata', args: {} })).rejects.toThrow(/^replace_metadata: could not reach Hasura at .*: no answer within [1-4]\d\d ms$/);
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(client.metadata({ type: 'reload_metadata', args: {} })).rejects.toThrow(/^reload_metadata: this deploy step ran out of time before the call/);
    } finally {
      await silent.close();
    }
  });
});
