import startPostgres from './postgres/global-setup';
import { quietTestOutput } from './quiet-output';
import { synthesizeForTestRun } from './synth';

/** One PostgreSQL 17 and one synth of each environment, shared by every test file. */
export default async function globalSetup(): Promise<void> {
  quietTestOutput();
  await startPostgres();
  synthesizeForTestRun();
}
