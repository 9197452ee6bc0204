/** The SQLSTATE `run` failed with (e.g. 42501 insufficient_privilege), or undefined when it succeeded. */
export async function sqlState(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
