-- 006: room names are unique.
--
-- Why: the rooms are addressed by name everywhere outside the database (Cognito
-- groups map to "Phenom Internal" / "Phenom Partners" / "Phenom Community", the
-- seed's post-deploy steps and the MCP tools name them), so two rooms with one name
-- would make the provisioner pick one at random. Raises 23505 unique_violation with
-- constraint chat_rooms_name_key.
ALTER TABLE chat_rooms ADD CONSTRAINT chat_rooms_name_key UNIQUE (name);
