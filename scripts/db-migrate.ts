/**
 * Applies the chat migrations to a database with exactly the code the deploy-time
 * custom resource runs (lambda/migrations/runner.ts).
 *
 *   npm run db:migrate -- --url postgres://user:pass@127.0.0.1:5432/phenom
 *   DATABASE_URL=postgres://… npm run db:migrate
 *   npm run db:migrate -- --url … --sql-dir ./sql
 */
import { Client } from 'pg';
import { runMigrations } from '../lambda/migrations/runner';
import { parseScriptArgs, runMain } from './cli';

const USAGE = 'usage: npm run db:migrate -- --url postgres://user:password@host:5432/database [--sql-dir DIR]  (or set DATABASE_URL)';

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseScriptArgs<{ url?: string; 'sql-dir'?: string }>(argv, { url: { type: 'string' }, 'sql-dir': { type: 'string' } }, USAGE);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const url = values.url ?? env.DATABASE_URL;
  if (!url) {
    console.error(`no database given.\n${USAGE}`);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    console.error(`--url must be a postgres:// URL, got ${redact(url)}\n${USAGE}`);
    return 2;
  }

  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const result = await runMigrations(client, { sqlDir: values['sql-dir'] });
    for (const name of result.applied) console.log(`applied  ${name}`);
    for (const name of result.newerThanDirectory) console.log(`kept     ${name} (the database has it; this sql/ directory is older)`);
    console.log(`${redact(url)}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
    return 0;
  } catch (err) {
    console.error(`db:migrate failed on ${redact(url)}: ${(err as Error).message}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
