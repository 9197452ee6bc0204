/**
 * The MCP server's NODE_OPTIONS for a task of `memoryMiB` (npm run bench:mcp runs the server with
 * the same, so what it measures is what the task runs).
 *
 * Old space gets three quarters: V8 does not size its heap from the task's memory limit, so under
 * load it grew until the task was killed (issue #14: a burst took the 512 MiB task past 600 MiB).
 * The rest is new space, code, buffers and sockets, which live outside it.
 *
 * The semi-spaces keep V8's default (16 MiB). Measured with bench:mcp at 64 clients (1 Dec 2026,
 * load 11-14): 2 MiB semi-spaces took peak RSS from 124-130 to 108 MiB, both under the 160 MiB goal,
 * but server CPU per call from 0.8-0.9 to 1.1-1.4 ms, as calls still in flight get promoted early and
 * are left to the old generation's collector.
 */
export const mcpServerNodeOptions = (memoryMiB: number): string => `--max-old-space-size=${Math.floor(memoryMiB * 0.75)}`;
