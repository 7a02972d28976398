-- Poison events: an event a projection could not decode or store is set aside here, in the same
-- transaction that advances the checkpoint past it, so the projection never stops for one event.
CREATE TABLE projection_quarantine (
    projection     text NOT NULL,
    seq            bigint NOT NULL,
    event_type     text,
    aggregate_id   text,
    tenant_id      text,
    error          text,
    quarantined_at timestamptz DEFAULT now(),
    PRIMARY KEY (projection, seq)
);

-- A recording one of whose events was quarantined: {"code": "event_quarantined", "seq": N}; NULL when fine.
ALTER TABLE recordings ADD COLUMN read_model_error jsonb;
