-- A consistency token waits only for the tenant's own writes: another tenant's token is answered as one that
-- names no write (no min_seq oracle). Effects recorded before this have no tenant and satisfy no token.
ALTER TABLE command_effects ADD COLUMN tenant_id text;
