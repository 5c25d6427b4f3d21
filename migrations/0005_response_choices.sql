-- A response with several choices (OpenAI n > 1, Gemini candidateCount > 1): every choice is a
-- response node, a child of the request leaf; choice_hashes lists them in index order, the first
-- being response_hash (the turn's answer). NULL: one choice, or none.
ALTER TABLE turns ADD COLUMN choice_hashes text[];
