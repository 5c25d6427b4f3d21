-- What the provider itself said the call took, as it reported it (NULL: not reported): today Ollama's
-- done line, in nanoseconds, as {"totalNs", "loadNs", "promptEvalNs", "evalNs"} (a key is absent
-- when that duration was not sent). latency_ms and ttft_ms stay what the sidecar measured.
ALTER TABLE turns ADD COLUMN provider_timing jsonb;
