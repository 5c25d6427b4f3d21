-- Subagent calls that carry no thread header join their parent's session as a thread of their own.
-- A turn whose response asks for a subagent (Claude Code's Agent or Task tool call) leaves one row
-- per such call here, keyed by the hash of the subagent's prompt; a later call of the same org and
-- harness whose first user message hashes the same finds it through an index, never a scan.
CREATE TABLE subagent_spawns (
  org_id      uuid NOT NULL,
  prompt_hash text NOT NULL,
  tool_use_id text NOT NULL,   -- the tool call's id: the thread id of the subagent's turns
  harness_id  text NOT NULL,
  session_id  uuid NOT NULL,   -- the parent turn's session
  turn_id     uuid NOT NULL,   -- the parent turn
  started_at  timestamptz NOT NULL,
  PRIMARY KEY (org_id, prompt_hash, tool_use_id),
  CONSTRAINT subagent_spawns_session_fk FOREIGN KEY (org_id, session_id)
    REFERENCES sessions (org_id, id) ON DELETE CASCADE
);

-- The lookup: the latest spawn of a prompt in the org and harness, started no later than the call.
CREATE INDEX subagent_spawns_lookup_idx ON subagent_spawns (org_id, harness_id, prompt_hash, started_at DESC);

-- The turn whose response asked for this subagent call (same session); NULL when none is known.
ALTER TABLE turns ADD COLUMN parent_turn_id uuid;
