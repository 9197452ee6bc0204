/**
 * The part of Synapse's database the A/B collector reads, as Synapse defines it: the `events` columns it
 * filters on and the indexes Synapse keeps on them (synapse/storage/schema/main/full_schemas/*, delta
 * 27/ts.py for events_ts), plus `room_aliases`. Columns the collector never reads are left out. A
 * real homeserver's database has these same indexes: the SYNAPSE_DATABASE_URL test checks the plan there.
 */
export const SYNAPSE_EVENTS_SCHEMA = `
CREATE TABLE events (
  stream_ordering bigint NOT NULL,
  topological_ordering bigint NOT NULL,
  event_id text NOT NULL UNIQUE,
  type text NOT NULL,
  room_id text NOT NULL,
  processed boolean NOT NULL DEFAULT true,
  outlier boolean NOT NULL DEFAULT false,
  origin_server_ts bigint,
  received_ts bigint,
  sender text
);
CREATE UNIQUE INDEX events_stream_ordering ON events (stream_ordering);
CREATE INDEX events_order_room ON events (room_id, topological_ordering, stream_ordering);
CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
CREATE INDEX events_ts ON events (origin_server_ts, stream_ordering);
CREATE TABLE room_aliases (room_alias text NOT NULL UNIQUE, room_id text NOT NULL, creator text);
CREATE INDEX room_aliases_id ON room_aliases (room_id);
`;
