/**
 * Captures what a script's `main` prints, for the tests of the npm-run scripts: each test starts
 * with empty `out` (console.log) and `err` (console.error) lines, and the console is restored after it.
 */
export function captureConsole(): { readonly out: string[]; readonly err: string[] } {
  const captured = { out: [] as string[], err: [] as string[] };
  beforeEach(() => {
    captured.out.length = 0;
    captured.err.length = 0;
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void captured.out.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void captured.err.push(a.join(' ')));
  });
  afterEach(() => jest.restoreAllMocks());
  return captured;
}
