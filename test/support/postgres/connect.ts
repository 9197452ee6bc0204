import { Client } from 'pg';
import { testServerUrl } from '.';

/** A connection to the shared test server as `user` (the superuser when omitted), on `database`. */
export async function connectAs(user?: { readonly name: string; readonly password: string }, database = 'postgres'): Promise<Client> {
  const url = new URL(testServerUrl());
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

/** The SQLSTATE `run` failed with, or undefined when it succeeded. */
export async function sqlState(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
