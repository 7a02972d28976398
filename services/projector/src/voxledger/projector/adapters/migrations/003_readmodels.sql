-- Deletion, transcript search, read-your-writes tokens and projector status.

-- A deleted recording's id: its rows are gone, and late events for it are never projected again.
CREATE TABLE deleted_recordings (
    recording_id uuid PRIMARY KEY,
    tenant_id    text NOT NULL,
    deleted_at   timestamptz NOT NULL
);

-- The newest completed job of a recording: its segments are the searchable transcript.
ALTER TABLE recordings ADD COLUMN transcript_job_id uuid;

-- Full-text search over segments (english stemming), ranked by the GIN-indexed vector.
ALTER TABLE segments ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED;
CREATE INDEX segments_search ON segments USING gin (search);
CREATE INDEX segments_by_recording ON segments (recording_id);

-- Lists filtered by creation time, and the jobs list.
CREATE INDEX recordings_by_tenant_created ON recordings (tenant_id, created_at);
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, job_id DESC);

-- Read-your-writes: the newest event seq a command led to, once projected.
CREATE TABLE command_effects (
    command_id  uuid PRIMARY KEY,
    seq         bigint NOT NULL,
    recorded_at timestamptz NOT NULL
);

-- Projector health, next to its checkpoint: events skipped as unknown, and the lag at the last batch.
ALTER TABLE projection_checkpoints ADD COLUMN skipped bigint NOT NULL DEFAULT 0;
ALTER TABLE projection_checkpoints ADD COLUMN lag bigint NOT NULL DEFAULT 0;
