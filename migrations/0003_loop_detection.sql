-- Loop detection: a turn's loop_hash commits to what it asked (the last user/tool message and the
-- tool calls that led to it, without call ids); the same hash on consecutive turns is an agent loop.
-- NULL loop_hash: the turn takes no part (no request content, or an error turn: a retry is no loop).
ALTER TABLE turns ADD COLUMN loop_hash text;
-- loop_strikes: how many consecutive participating turns (by turn_index) ended with the same
-- loop_hash, counting the latest one; loop_detected_at: when a run last reached the threshold (sticky).
ALTER TABLE sessions ADD COLUMN loop_strikes integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN loop_detected_at timestamptz;
-- The request gate loads flagged sessions at start.
CREATE INDEX sessions_loop_detected_idx ON sessions (loop_detected_at DESC) WHERE loop_detected_at IS NOT NULL;
