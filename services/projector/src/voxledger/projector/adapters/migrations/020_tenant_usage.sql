-- Each tenant's share of the EVENTS log (events and their bytes), counted by the projector as it applies them:
-- the gateway's event-log quota reads it, so it holds across gateway processes. A replay recounts it from the log.
CREATE TABLE tenant_usage (
    tenant_id text PRIMARY KEY,
    events bigint NOT NULL DEFAULT 0,
    event_bytes bigint NOT NULL DEFAULT 0
);
