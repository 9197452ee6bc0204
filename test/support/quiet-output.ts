/**
 * Keeps the test output to what a reader needs: test results and real failures.
 *
 * - aws-cdk-lib writes "Bundling asset <path>..." to stderr for every Lambda asset of every synth
 *   (about 40 lines a run). Our bundling is local esbuild and its failures throw, so the line
 *   carries nothing; only that exact line is dropped.
 * - The AWS SDK warns once per process that its releases after January 2027 need Node 22. The
 *   Lambdas and images run Node 22; only the machines that run the tests may be on Node 20
 *   (package.json `engines`), where the SDK in the lockfile still works. The SDK's own switch
 *   turns the warning off, for the test processes and the servers they start.
 */
const BUNDLING_LINE = /^Bundling asset [^\n]+\.\.\.\r?\n$/;

export function quietTestOutput(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stderr = process.stderr as NodeJS.WriteStream & { phenomQuiet?: true };
  if (stderr.phenomQuiet) return;
  const write = stderr.write.bind(stderr) as (...args: unknown[]) => boolean;
  stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && BUNDLING_LINE.test(chunk)) return true;
    return write(chunk, ...rest);
  }) as typeof stderr.write;
  stderr.phenomQuiet = true;
}

quietTestOutput();
