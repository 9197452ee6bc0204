import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * Hasura metadata (version 3) as `export_metadata` returns it and `replace_metadata`
 * takes it: the JSON form of the CLI's metadata directory.
 */
export interface HasuraMetadata {
  readonly version: 3;
  readonly sources: readonly HasuraSource[];
  readonly [key: string]: unknown;
}

export interface HasuraSource {
  readonly name: string;
  readonly kind: string;
  readonly tables: readonly HasuraTable[];
  readonly configuration: unknown;
  readonly [key: string]: unknown;
}

export interface HasuraTable {
  readonly table: { readonly name: string; readonly schema: string };
  readonly [key: string]: unknown;
}

/** A problem in the metadata directory; the message names the file. */
export class MetadataDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataDirectoryError';
  }
}

/**
 * The top-level files the Hasura CLI (config v3) writes beside `databases/`, and the
 * metadata key each one becomes. actions.yaml is special: it holds two keys.
 */
const TOP_LEVEL_FILES: Readonly<Record<string, string>> = {
  'allow_list.yaml': 'allowlist',
  'api_limits.yaml': 'api_limits',
  'cron_triggers.yaml': 'cron_triggers',
  'graphql_schema_introspection.yaml': 'graphql_schema_introspection',
  'inherited_roles.yaml': 'inherited_roles',
  'metrics_config.yaml': 'metrics_config',
  'network.yaml': 'network',
  'opentelemetry.yaml': 'opentelemetry',
  'query_collections.yaml': 'query_collections',
  'remote_schemas.yaml': 'remote_schemas',
  'rest_endpoints.yaml': 'rest_endpoints',
};

const INCLUDE = /^!include\s+(\S.*)$/;

/**
 * Reads a Hasura CLI metadata directory (config v3) into the metadata object that
 * `replace_metadata` takes. `!include` references are resolved relative to the file
 * that holds them, as the CLI does. Empty sections are left out, as export_metadata
 * leaves them out. Throws MetadataDirectoryError naming the file on any problem.
 */
export function loadMetadataDirectory(dir: string): HasuraMetadata {
  const root = resolve(dir);
  const versionFile = join(root, 'version.yaml');
  if (!existsSync(versionFile)) throw new MetadataDirectoryError(`${root} is not a Hasura metadata directory: version.yaml is missing`);
  const { version } = (readYaml(root, versionFile) ?? {}) as { version?: unknown };
  if (version !== 3) throw new MetadataDirectoryError(`version.yaml: expected "version: 3" (Hasura CLI config v3), got ${JSON.stringify(version)}`);

  const sources = resolveIncludes(root, join(root, 'databases', 'databases.yaml'));
  if (!Array.isArray(sources)) throw new MetadataDirectoryError('databases/databases.yaml: expected a list of sources');
  sources.forEach((source, i) => checkSource(source, `databases/databases.yaml[${i}]`));

  const metadata: Record<string, unknown> = { version: 3, sources };
  for (const [file, key] of Object.entries(TOP_LEVEL_FILES)) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const value = resolveIncludes(root, path);
    if (!isEmpty(value)) metadata[key] = value;
  }
  Object.assign(metadata, loadActions(root));
  return metadata as unknown as HasuraMetadata;
}

/** The body of a `replace_metadata` call (metadata API version 2) that fails on any inconsistency. */
export function replaceMetadataRequest(metadata: HasuraMetadata, resourceVersion?: number): { readonly type: 'replace_metadata' } & Record<string, unknown> {
  return {
    type: 'replace_metadata' as const,
    version: 2,
    ...(resourceVersion === undefined ? {} : { resource_version: resourceVersion }),
    args: { allow_inconsistent_metadata: false, metadata },
  };
}

function loadActions(root: string): Record<string, unknown> {
  const graphqlFile = join(root, 'actions.graphql');
  // Action definitions live in actions.graphql and the CLI merges them into actions.yaml
  // with a GraphQL-to-metadata conversion; this app defines no actions, so rather than
  // half-implement that conversion a non-empty file is refused.
  if (existsSync(graphqlFile) && readFileSync(graphqlFile, 'utf8').replace(/#.*$/gm, '').trim() !== '') {
    throw new MetadataDirectoryError('actions.graphql: actions are not supported by this loader; define the data as tables or extend the loader');
  }
  const yamlFile = join(root, 'actions.yaml');
  if (!existsSync(yamlFile)) return {};
  const actions = (resolveIncludes(root, yamlFile) ?? {}) as { actions?: unknown[]; custom_types?: Record<string, unknown[]> };
  if (actions.actions && actions.actions.length > 0) {
    throw new MetadataDirectoryError('actions.yaml: actions are not supported by this loader (see actions.graphql)');
  }
  const customTypes = actions.custom_types ?? {};
  return isEmpty(customTypes) ? {} : { custom_types: customTypes };
}

function checkSource(source: unknown, where: string): void {
  const s = source as Partial<HasuraSource> | null;
  if (!s || typeof s !== 'object') throw new MetadataDirectoryError(`${where}: expected a source object`);
  if (typeof s.name !== 'string' || !s.name) throw new MetadataDirectoryError(`${where}: the source has no name`);
  if (!s.configuration) throw new MetadataDirectoryError(`${where} (${s.name}): the source has no configuration`);
  if (!Array.isArray(s.tables)) throw new MetadataDirectoryError(`${where} (${s.name}): tables must be a list (usually '!include ${s.name}/tables/tables.yaml')`);
  const seen = new Set<string>();
  for (const t of s.tables as HasuraTable[]) {
    if (!t?.table?.name || !t.table.schema) throw new MetadataDirectoryError(`${where} (${s.name}): a table entry has no table.name/table.schema`);
    const key = `${t.table.schema}.${t.table.name}`;
    if (seen.has(key)) throw new MetadataDirectoryError(`${where} (${s.name}): table ${key} is listed twice`);
    seen.add(key);
  }
}

function readYaml(root: string, file: string): unknown {
  if (!existsSync(file)) throw new MetadataDirectoryError(`${relative(root, file)}: file not found`);
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MetadataDirectoryError(`${relative(root, file)}: invalid YAML: ${(err as Error).message}`);
  }
}

/** Parses `file` and replaces every `'!include path'` string with the parsed file it names. */
function resolveIncludes(root: string, file: string, chain: readonly string[] = []): unknown {
  if (chain.includes(file)) {
    throw new MetadataDirectoryError(`${relative(root, file)}: circular !include (${[...chain, file].map((f) => relative(root, f)).join(' -> ')})`);
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const m = INCLUDE.exec(value);
      if (!m) return value;
      const target = resolve(dirname(file), m[1].trim());
      if (relative(root, target).startsWith('..')) {
        throw new MetadataDirectoryError(`${relative(root, file)}: !include ${m[1]} points outside the metadata directory`);
      }
      return resolveIncludes(root, target, [...chain, file]);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(readYaml(root, file));
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isEmpty);
  return false;
}

/**
 * How the engine's metadata relates to ours.
 * - `exclusive`: the engine was created for the chat (config.hasura.mode "create");
 *   its metadata is exactly the directory's.
 * - `shared`: an existing engine (mode "import") serves other tables too; the chat's
 *   tables are merged into its metadata and everything else is left as it was.
 */
export type MetadataOwnership = 'exclusive' | 'shared';
