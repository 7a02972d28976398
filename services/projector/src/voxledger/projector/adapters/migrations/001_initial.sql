-- Read models for the batch path. Written by the projector only.
CREATE TABLE projection_checkpoints (
    name     text PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE api_keys (
    key_id     text PRIMARY KEY,
    tenant_id  text NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    prefix     text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE recordings (
    recording_id  uuid PRIMARY KEY,
    tenant_id     text NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL,
    blob_digest   text NOT NULL,
    duration_s    double precision,
    status        text NOT NULL,
    latest_job_id uuid,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_seq      bigint NOT NULL
);
CREATE INDEX recordings_by_tenant ON recordings (tenant_id, recording_id DESC);
CREATE INDEX recordings_by_tenant_status ON recordings (tenant_id, status, recording_id DESC);

CREATE TABLE jobs (
    job_id        uuid PRIMARY KEY,
    recording_id  uuid NOT NULL,
    tenant_id     text NOT NULL,
    status        text NOT NULL,
    stage         text NOT NULL,
    progress      double precision NOT NULL DEFAULT 0,
    processed_s   double precision NOT NULL DEFAULT 0,
    eta_s         double precision,
    attempt       integer NOT NULL DEFAULT 0,
    options       jsonb NOT NULL,
    model         text,
    worker        text,
    language      text,
    duration_s    double precision,
    segment_count integer,
    processing_s  double precision,
    error_code    text,
    error_message text,
    retry_at      timestamptz,
    trace_id      text,
    created_at    timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL,
    last_seq      bigint NOT NULL
);
CREATE INDEX jobs_by_recording ON jobs (recording_id, job_id DESC);

CREATE TABLE segments (
    job_id         uuid NOT NULL,
    idx            integer NOT NULL,
    recording_id   uuid NOT NULL,
    tenant_id      text NOT NULL,
    start_s        double precision NOT NULL,
    end_s          double precision NOT NULL,
    text           text NOT NULL,
    avg_logprob    double precision NOT NULL,
    no_speech_prob double precision NOT NULL,
    words          jsonb,
    PRIMARY KEY (job_id, idx)
);
