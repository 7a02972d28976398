-- API keys with a lifecycle: a scope, an optional expiry, a revocation time (ApiKeyRevoked.effective_at:
-- a rotation's old key stays valid until its overlap ends) and a coarse last-use time (ApiKeyUsed).
-- Keys issued before this read as `member` keys, as their upcast events say.
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'member';
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN revoked_at timestamptz;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at DESC, key_id DESC);
