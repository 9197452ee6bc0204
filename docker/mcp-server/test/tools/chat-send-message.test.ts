import { TOOLS_BY_NAME } from '../../src/tools';

describe('chat_send_message’s description for the agent', () => {
  it('tells the agent to pass a client_message_id and to reuse it only for a retry', () => {
    const tool = TOOLS_BY_NAME.get('chat_send_message')!;
    expect(tool.description).toMatch(/client_message_id/);
    expect(tool.description).toMatch(/retry/i);
    expect(tool.description).not.toMatch(/Not idempotent/);
    expect(() => tool.inputSchema.parse({ room_id: 'r', content: 'x', client_message_id: 'has space' })).toThrow(/client_message_id/);
    expect(() => tool.inputSchema.parse({ room_id: 'r', content: 'x', client_message_id: 'k'.repeat(129) })).toThrow();
  });
});
