import { runMain } from '../../scripts/cli';

describe('runMain', () => {
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    jest.restoreAllMocks();
  });
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it('sets the exit code main returns', async () => {
    runMain(async () => 3);
    await settled();
    expect(process.exitCode).toBe(3);
  });

  it('exits 1 with the error printed when main throws, rather than leaving an unhandled rejection', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    runMain(async () => {
      throw new Error('the database refused the connection');
    });
    await settled();
    expect(process.exitCode).toBe(1);
    expect(printed).toHaveBeenCalledWith(expect.stringContaining('the database refused the connection'));
  });
});
