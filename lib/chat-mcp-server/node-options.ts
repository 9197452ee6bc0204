/**
 * The MCP server's NODE_OPTIONS for a task of `memoryMiB` (npm run bench:mcp runs the server with
 * the same, so what it measures is what the task runs).
 * - Old space gets three quarters: V8 does not size its heap from the task's memory limit, so under
 *   load it grew until the task was killed (issue #14: a burst took the 512 MiB task past 600 MiB).
 *   The rest is new space, code, buffers and sockets, which live outside it.
 * - Semi-spaces of 2 MiB instead of V8's 16: a call's garbage is small and short-lived, so the young
 *   generation never needs more. bench:mcp at 64 clients: server peak RSS 169 MiB -> 142 MiB, server CPU
 *   per call 1.00 ms -> 1.14 ms, within the run-to-run noise of that shared machine (load 11-13).
 */
export const mcpServerNodeOptions = (memoryMiB: number): string => `--max-old-space-size=${Math.floor(memoryMiB * 0.75)} --max-semi-space-size=2`;
