import { ChatError } from '../../src/backend/types';

/** The ChatError a backend call rejects with (fails the test if it resolves or throws something else). */
export async function chatError(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  return error as ChatError;
}
