import { parseArgs, ParseArgsConfig } from 'node:util';

/**
 * Parses a script's flags the way every `npm run` script of this repo does: `--help`/`-h`
 * prints the usage (exit 0); an unknown or malformed flag prints the error and the usage
 * (exit 2). `V` is the shape of the flags the caller declared.
 */
export function parseScriptArgs<V>(argv: string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): { values: V } | { exitCode: number } {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      console.log(usage);
      return { exitCode: 0 };
    }
    return { values: values as V };
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return { exitCode: 2 };
  }
}

/**
 * Runs a script's main and sets the exit code it returns. A main that throws instead exits 1
 * with the error printed, not as an unhandled rejection.
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exitCode = 1;
    },
  );
}
