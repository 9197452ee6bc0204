-- 001: the Hasura Lite chat schema exactly as seed 000 "Database Schema" lists it.
--
-- Everything the seed leaves open (delete rules, NOT NULLs, keyset index, the chat
-- rules trigger, one active ban) is added by the later numbered migrations, each
-- with the reason, so this file stays a faithful copy of the seed.
--
-- Constraint names are written out, and they are the names PostgreSQL gives an
-- unnamed constraint, so a database created from the seed's original SQL and one
-- created from this file agree and later migrations can address them by name:
--   chat_messages_content_check       CHECK (char_length(content) <= 4000)      -> 23514
--   chat_messages_message_type_check  CHECK (message_type IN ('text','phenom_link')) -> 23514
--   chat_members_role_check           CHECK (role IN ('user','support','admin'))  -> 23514
--   chat_members_room_id_user_id_key  UNIQUE (room_id, user_id)                 -> 23505
--   link_previews_phenom_id_key       UNIQUE (phenom_id)                        -> 23505
--   <table>_<column>_fkey             every foreign key                         -> 23503

-- gen_random_uuid() is built in since PostgreSQL 13; no pgcrypto needed.

-- The ERD's users table. The Phenom database may already have one (the provisioner
-- upserts into it), so it is created only where it is absent and never altered.
CREATE TABLE IF NOT EXISTS users (
  id           TEXT PRIMARY KEY,
  username     TEXT,
  display_name TEXT,
  avatar_url   TEXT
);

CREATE TABLE IF NOT EXISTS chat_rooms (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name        TEXT NOT NULL,
  description TEXT,
  created_at  TIMESTAMPTZ DEFAULT now(),
  is_active   BOOLEAN DEFAULT true
);

CREATE TABLE IF NOT EXISTS chat_messages (
  id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id      UUID NOT NULL CONSTRAINT chat_messages_room_id_fkey REFERENCES chat_rooms (id),
  user_id      TEXT NOT NULL CONSTRAINT chat_messages_user_id_fkey REFERENCES users (id),
  content      TEXT NOT NULL CONSTRAINT chat_messages_content_check CHECK (char_length(content) <= 4000),
  message_type TEXT DEFAULT 'text' CONSTRAINT chat_messages_message_type_check CHECK (message_type IN ('text', 'phenom_link')),
  phenom_id    TEXT,
  is_deleted   BOOLEAN DEFAULT false,
  deleted_by   TEXT CONSTRAINT chat_messages_deleted_by_fkey REFERENCES users (id),
  created_at   TIMESTAMPTZ DEFAULT now(),
  updated_at   TIMESTAMPTZ DEFAULT now()
);

-- Primary query path (room history, newest first). 002 redefines it with an id tie-breaker.
CREATE INDEX IF NOT EXISTS idx_chat_messages_room_created ON chat_messages (room_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_chat_messages_user ON chat_messages (user_id);

CREATE TABLE IF NOT EXISTS chat_members (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id     UUID NOT NULL CONSTRAINT chat_members_room_id_fkey REFERENCES chat_rooms (id),
  user_id     TEXT NOT NULL CONSTRAINT chat_members_user_id_fkey REFERENCES users (id),
  role        TEXT DEFAULT 'user' CONSTRAINT chat_members_role_check CHECK (role IN ('user', 'support', 'admin')),
  is_muted    BOOLEAN DEFAULT false,
  muted_until TIMESTAMPTZ, -- null while is_muted = indefinite
  joined_at   TIMESTAMPTZ DEFAULT now(),
  CONSTRAINT chat_members_room_id_user_id_key UNIQUE (room_id, user_id)
);

CREATE INDEX IF NOT EXISTS idx_chat_members_room ON chat_members (room_id);

CREATE TABLE IF NOT EXISTS chat_bans (
  id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id    UUID NOT NULL CONSTRAINT chat_bans_room_id_fkey REFERENCES chat_rooms (id),
  user_id    TEXT NOT NULL CONSTRAINT chat_bans_user_id_fkey REFERENCES users (id),
  banned_by  TEXT NOT NULL CONSTRAINT chat_bans_banned_by_fkey REFERENCES users (id),
  reason     TEXT,
  banned_at  TIMESTAMPTZ DEFAULT now(),
  expires_at TIMESTAMPTZ -- null = permanent
);

CREATE INDEX IF NOT EXISTS idx_chat_bans_room_user ON chat_bans (room_id, user_id);

CREATE TABLE IF NOT EXISTS link_previews (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  url           TEXT NOT NULL,
  phenom_id     TEXT CONSTRAINT link_previews_phenom_id_key UNIQUE,
  title         TEXT,
  description   TEXT,
  thumbnail_url TEXT,
  media_type    TEXT,
  resolved_at   TIMESTAMPTZ DEFAULT now(),
  expires_at    TIMESTAMPTZ
);

-- The seed names this index although the UNIQUE constraint already indexes phenom_id.
CREATE INDEX IF NOT EXISTS idx_link_previews_phenom ON link_previews (phenom_id);

-- updated_at is maintained by the database, so every writer (Hasura, MCP, Lambdas)
-- gets it right. The function name is chat-prefixed: the Phenom database is shared
-- and may have its own generic trigger functions.
CREATE OR REPLACE FUNCTION chat_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS chat_messages_set_updated_at ON chat_messages;
CREATE TRIGGER chat_messages_set_updated_at
  BEFORE UPDATE ON chat_messages
  FOR EACH ROW EXECUTE FUNCTION chat_set_updated_at();

-- The three rooms of the seeds, inserted only when a room of that name is missing,
-- so re-running (or adopting a database seeded by the old Terraform module) adds none twice.
INSERT INTO chat_rooms (name, description)
SELECT seed.name, seed.description
FROM (VALUES
  ('Phenom Internal',  'Internal conversations for the Phenom team.'),
  ('Phenom Partners',  'Collaboration space for Phenom and its partners.'),
  ('Phenom Community', 'Open room for everyone in the Phenom community.')
) AS seed (name, description)
WHERE NOT EXISTS (SELECT 1 FROM chat_rooms r WHERE r.name = seed.name);
