-- 005: a phenom_link message must say which Phenom content it links to.
--
-- Why: the link-preview Lambda resolves previews by phenom_id (seed 000, "Send
-- Message Flow"); a phenom_link without one can never get a preview and would be
-- retried by the Hasura event trigger forever. Violations raise 23514 check_violation
-- with constraint chat_messages_phenom_link_requires_phenom_id.
ALTER TABLE chat_messages
  ADD CONSTRAINT chat_messages_phenom_link_requires_phenom_id
  CHECK (message_type <> 'phenom_link' OR (phenom_id IS NOT NULL AND phenom_id <> ''));
