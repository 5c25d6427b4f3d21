-- sessiontap schema v1: sessions, content-addressed nodes, turns. Every key and foreign key carries
-- org_id, so a row can only ever reference rows of its own org.

CREATE TABLE sessions (
  id                          uuid PRIMARY KEY,          -- UUIDv7, minted by the app
  org_id                      uuid NOT NULL,
  auth_subject                text,
  harness_id                  text NOT NULL,
  harness_session_id          text NOT NULL,
  session_source              text,
  name                        text,
  cwd                         text,
  harness_version             text,
  parent_session_id           uuid,
  -- Created by a child that arrived before its parent; the parent's first real turn clears it.
  is_placeholder              boolean NOT NULL DEFAULT false,
  harness_metadata            jsonb NOT NULL DEFAULT '{}',
  started_at                  timestamptz NOT NULL,
  last_seen_at                timestamptz NOT NULL,
  ended_at                    timestamptz,
  end_reason                  text CHECK (end_reason IN ('client', 'idle')),
  -- turn_count is also the next turn_index: it only grows by one per inserted turn, under the row lock.
  turn_count                  integer NOT NULL DEFAULT 0,
  error_count                 integer NOT NULL DEFAULT 0,
  total_input_tokens          bigint NOT NULL DEFAULT 0,
  total_output_tokens         bigint NOT NULL DEFAULT 0,
  total_cache_read_tokens     bigint NOT NULL DEFAULT 0,
  total_cache_creation_tokens bigint NOT NULL DEFAULT 0,
  total_reasoning_tokens      bigint NOT NULL DEFAULT 0,
  total_cost_usd              numeric(20, 10) NOT NULL DEFAULT 0,
  last_model                  text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sessions_harness_uq UNIQUE (org_id, harness_id, harness_session_id),
  CONSTRAINT sessions_org_id_uq UNIQUE (org_id, id),
  CONSTRAINT sessions_parent_fk FOREIGN KEY (org_id, parent_session_id) REFERENCES sessions (org_id, id)
);
CREATE INDEX sessions_org_last_seen_idx ON sessions (org_id, last_seen_at DESC);
CREATE INDEX sessions_parent_idx ON sessions (parent_session_id);
-- The idle sweep only looks at open, real sessions.
CREATE INDEX sessions_open_last_seen_idx ON sessions (last_seen_at) WHERE ended_at IS NULL AND NOT is_placeholder;

CREATE TABLE nodes (
  org_id      uuid NOT NULL,
  hash        text NOT NULL,
  parent_hash text,
  role        text NOT NULL,
  content     jsonb NOT NULL,
  session_id  uuid NOT NULL,                               -- the first session that wrote the node
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, hash),
  CONSTRAINT nodes_session_fk FOREIGN KEY (org_id, session_id) REFERENCES sessions (org_id, id)
);
CREATE INDEX nodes_parent_idx ON nodes (org_id, parent_hash);
CREATE INDEX nodes_session_idx ON nodes (session_id);

CREATE TABLE turns (
  id                    uuid PRIMARY KEY,
  org_id                uuid NOT NULL,
  session_id            uuid NOT NULL,
  turn_index            integer NOT NULL,
  request_id            text NOT NULL,
  thread_id             text,
  provider              text NOT NULL,
  api                   text NOT NULL,
  model                 text,
  response_model        text,
  status_code           integer,
  is_streaming          boolean NOT NULL,
  is_complete           boolean NOT NULL,
  stop_reason           text,
  -- NULL means "not reported", never 0.
  input_tokens          bigint,
  output_tokens         bigint,
  cache_read_tokens     bigint,
  cache_creation_tokens bigint,
  reasoning_tokens      bigint,
  usage_status          text NOT NULL,
  cost_usd              numeric(20, 10),
  latency_ms            integer,
  ttft_ms               integer,
  request_leaf_hash     text,
  response_hash         text,
  provider_response_id  text,
  error_type            text,
  error_message         text,
  started_at            timestamptz NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT turns_session_index_uq UNIQUE (session_id, turn_index),
  CONSTRAINT turns_org_request_uq UNIQUE (org_id, request_id),
  CONSTRAINT turns_session_fk FOREIGN KEY (org_id, session_id) REFERENCES sessions (org_id, id) ON DELETE CASCADE
);
