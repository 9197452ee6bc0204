import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadMetadataDirectory, MetadataDirectoryError, replaceMetadataRequest } from '../../../chat-domain/hasura-metadata-directory';

/** Writes a metadata directory from `files` (path → content) into a fresh temp dir. */
function metadataDir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hasura-meta-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  dirs.push(root);
  return root;
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const MINIMAL = {
  'version.yaml': 'version: 3\n',
  'databases/databases.yaml': [
    '- name: default',
    '  kind: postgres',
    '  configuration:',
    '    connection_info:',
    '      database_url:',
    '        from_env: HASURA_GRAPHQL_DATABASE_URL',
    "  tables: '!include default/tables/tables.yaml'",
  ].join('\n'),
  'databases/default/tables/tables.yaml': '- \'!include public_author.yaml\'\n- "!include public_article.yaml"\n',
  'databases/default/tables/public_author.yaml': 'table:\n  name: author\n  schema: public\n',
  'databases/default/tables/public_article.yaml': 'table:\n  name: article\n  schema: public\n',
};

describe('loadMetadataDirectory', () => {
  it('resolves !include relative to the including file, as the Hasura CLI does', () => {
    const metadata = loadMetadataDirectory(metadataDir(MINIMAL));
    expect(metadata).toEqual({
      version: 3,
      sources: [
        {
          name: 'default',
          kind: 'postgres',
          configuration: { connection_info: { database_url: { from_env: 'HASURA_GRAPHQL_DATABASE_URL' } } },
          tables: [{ table: { name: 'author', schema: 'public' } }, { table: { name: 'article', schema: 'public' } }],
        },
      ],
    });
  });

  it('maps the top-level files to their metadata keys and leaves empty ones out', () => {
    const metadata = loadMetadataDirectory(
      metadataDir({
        ...MINIMAL,
        'allow_list.yaml': '- collection: allowed-queries\n',
        'query_collections.yaml': '- name: allowed-queries\n  definition:\n    queries: []\n',
        'remote_schemas.yaml': '[]\n',
        'inherited_roles.yaml': '[]\n',
        'network.yaml': '{}\n',
        'actions.graphql': '# no actions\n',
        'actions.yaml': 'actions: []\ncustom_types:\n  enums: []\n  input_objects: []\n  objects: []\n  scalars: []\n',
      }),
    );
    expect(metadata.allowlist).toEqual([{ collection: 'allowed-queries' }]);
    expect(metadata.query_collections).toEqual([{ name: 'allowed-queries', definition: { queries: [] } }]);
    for (const key of ['remote_schemas', 'inherited_roles', 'network', 'actions', 'custom_types']) expect(metadata).not.toHaveProperty(key);
  });

  it('loads the repository directory: six tables in the default source', () => {
    const metadata = loadMetadataDirectory(join(__dirname, '../../../hasura-metadata'));
    expect(metadata.sources.map((s) => s.name)).toEqual(['default']);
    expect(metadata.sources[0].tables.map((t) => t.table.name).sort()).toEqual(['chat_bans', 'chat_members', 'chat_messages', 'chat_rooms', 'link_previews', 'users']);
  });

  it.each([
    ['no version.yaml', { ...MINIMAL, 'version.yaml': undefined }, /version\.yaml is missing/],
    ['a version other than 3', { ...MINIMAL, 'version.yaml': 'version: 2\n' }, /version\.yaml: expected "version: 3"/],
    ['a missing included file', { ...MINIMAL, 'databases/default/tables/public_article.yaml': undefined }, /databases\/default\/tables\/public_article\.yaml: file not found/],
    ['invalid YAML', { ...MINIMAL, 'databases/default/tables/public_author.yaml': 'table: [unclosed\n' }, /public_author\.yaml: invalid YAML/],
    ['an include outside the directory', { ...MINIMAL, 'databases/default/tables/tables.yaml': "- '!include ../../../../etc/passwd'\n" }, /points outside the metadata directory/],
    ['a circular include', { ...MINIMAL, 'databases/default/tables/public_author.yaml': "table: '!include tables.yaml'\n" }, /circular !include/],
    ['a table listed twice', { ...MINIMAL, 'databases/default/tables/tables.yaml': "- '!include public_author.yaml'\n- '!include public_author.yaml'\n" }, /table public\.author is listed twice/],
    ['a table without a name', { ...MINIMAL, 'databases/default/tables/public_author.yaml': 'table:\n  schema: public\n' }, /has no table\.name/],
    ['a source without configuration', { ...MINIMAL, 'databases/databases.yaml': '- name: default\n  kind: postgres\n  tables: []\n' }, /\(default\): the source has no configuration/],
    ['an action', { ...MINIMAL, 'actions.graphql': 'type Query { greet: String }\n' }, /actions\.graphql: actions are not supported/],
  ])('refuses %s with a message naming the file', (_, files, message) => {
    const defined = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const dir = metadataDir(defined);
    expect(() => loadMetadataDirectory(dir)).toThrow(MetadataDirectoryError);
    expect(() => loadMetadataDirectory(dir)).toThrow(message);
  });
});

describe('replaceMetadataRequest', () => {
  it('builds a version 2 replace_metadata that refuses inconsistent metadata', () => {
    const metadata = loadMetadataDirectory(metadataDir(MINIMAL));
    expect(replaceMetadataRequest(metadata)).toEqual({ type: 'replace_metadata', version: 2, args: { allow_inconsistent_metadata: false, metadata } });
    expect(replaceMetadataRequest(metadata, 12)).toMatchObject({ resource_version: 12 });
  });
});
