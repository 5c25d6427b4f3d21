-- Usage details beyond the five totals, as the provider reported them (NULL: not reported):
-- the Anthropic cache writes split by TTL (components of cache_creation_tokens; the 1-hour ones are
-- priced higher) and the requests a call made to server-side tools (Anthropic web search).
ALTER TABLE turns ADD COLUMN cache_creation_5m_tokens bigint;
ALTER TABLE turns ADD COLUMN cache_creation_1h_tokens bigint;
ALTER TABLE turns ADD COLUMN web_search_requests integer;
