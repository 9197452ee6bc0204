import { TOOLS_BY_NAME } from '../../src/tools';

describe('chat_list_bans', () => {
  it('is a read-only tool that needs moderation rights, as seed 000 shows bans to support and admins only', () => {
    const tool = TOOLS_BY_NAME.get('chat_list_bans');
    expect(tool).toMatchObject({ access: 'moderate', annotations: { readOnlyHint: true, destructiveHint: false } });
  });
});
