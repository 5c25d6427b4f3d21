-- What was said, byte for byte: each turn's request and response bodies, decoded from their
-- content-encoding and compressed again (`encoding`, brotli), for the raw view. The nodes keep the
-- projected form that is hashed; these rows are never hashed. SESSIONTAP_STORE_RAW=false or
-- SESSIONTAP_STORE_CONTENT=false writes none. A row goes with its turn (and so with its session).
CREATE TABLE turn_bodies (
  org_id             uuid NOT NULL,
  turn_id            uuid NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
  encoding           text NOT NULL,
  request            bytea NOT NULL,
  -- Decoded size of the body as captured; the stored bytes hold at most the first 8 MiB of it.
  request_size       bigint NOT NULL,
  -- The stored bytes are not the whole body: cut at 8 MiB, or the capture or its decoding ended early.
  request_truncated  boolean NOT NULL,
  response           bytea NOT NULL,
  response_size      bigint NOT NULL,
  response_truncated boolean NOT NULL,
  -- turn_id first: the cascade from turns looks rows up by turn_id alone, reads by turn and org.
  PRIMARY KEY (turn_id, org_id)
);
