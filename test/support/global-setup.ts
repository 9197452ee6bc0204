import startPostgres from './postgres/global-setup';
import { synthesizeForTestRun } from './synth';

/** One PostgreSQL 17 and one synth of each environment, shared by every test file. */
export default async function globalSetup(): Promise<void> {
  await startPostgres();
  synthesizeForTestRun();
}
