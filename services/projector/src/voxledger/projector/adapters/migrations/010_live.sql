-- Live sessions: each is also a recording (source 'live') whose job's segments are the finals.
ALTER TABLE recordings ADD COLUMN source text NOT NULL DEFAULT 'upload';

CREATE TABLE live_sessions (
    session_id   uuid PRIMARY KEY,
    tenant_id    text NOT NULL,
    job_id       uuid NOT NULL,
    status       text NOT NULL,
    sample_rate  integer NOT NULL,
    encoding     text NOT NULL,
    model        text NOT NULL,
    language     text,
    worker       text,
    end_reason   text,
    duration_s   double precision,
    stats        jsonb,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    updated_at   timestamptz NOT NULL,
    last_seq     bigint NOT NULL
);
CREATE INDEX live_sessions_by_tenant ON live_sessions (tenant_id, session_id DESC);
