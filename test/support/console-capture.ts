/** What a script printed with console.log / console.error during one test, captured instead of shown. */
export interface ConsoleCapture {
  readonly out: string[];
  readonly err: string[];
}

/** Captures console.log and console.error for each test of the file (restored after each). */
export function captureConsoleEachTest(): ConsoleCapture {
  const captured: { out: string[]; err: string[] } = { out: [], err: [] };
  beforeEach(() => {
    captured.out.length = 0;
    captured.err.length = 0;
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void captured.out.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void captured.err.push(a.join(' ')));
  });
  afterEach(() => jest.restoreAllMocks());
  return captured;
}
