-- A Responses API turn that sends previous_response_id carries only its new input, so its own
-- conversation hash would give it a synthetic session of its own; ingest looks up the turn that
-- produced that response (same org) and joins its session. This index serves that lookup.
CREATE INDEX turns_provider_response_idx ON turns (org_id, provider_response_id)
  WHERE provider_response_id IS NOT NULL;
