-- Post-processing results, one row per job and kind; a re-run replaces the row.
CREATE TABLE insights (
    job_id        uuid NOT NULL,
    kind          text NOT NULL,
    recording_id  uuid NOT NULL,
    tenant_id     text NOT NULL,
    run_id        text NOT NULL,
    status        text NOT NULL,
    engine        text,
    payload       jsonb,
    error_code    text,
    error_message text,
    processing_s  double precision,
    requested_at  timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (job_id, kind)
);
CREATE INDEX insights_by_recording ON insights (recording_id);
