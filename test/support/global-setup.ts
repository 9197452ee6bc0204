import startPostgres from './postgres/global-setup';
import { quietTestOutput } from './quiet-output';
import { synthesizeForTestRun } from './synth';

/**
 * One PostgreSQL 17 and one synth of each environment, shared by every test file. The variants'
 * synths (5 more apps, ~20 s of CPU) only for a whole run: a run of chosen files synthesizes the
 * variants it needs in its own files, and one that needs none pays nothing for them.
 */
export default async function globalSetup(globalConfig: { testPathPatterns?: { isSet(): boolean } }): Promise<void> {
  quietTestOutput();
  await startPostgres();
  synthesizeForTestRun({ variants: !(globalConfig.testPathPatterns?.isSet() ?? false) });
}
