-- With SESSIONTAP_STORE_CONTENT=false sessiontap keeps a node's hash, role and parent link but not
-- what was said: content is then NULL.
ALTER TABLE nodes ALTER COLUMN content DROP NOT NULL;
