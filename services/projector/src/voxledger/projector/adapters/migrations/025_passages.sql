-- Passages for asking (PassagesEmbedded): speaker turns and one digest per job, with their embeddings
-- (all-MiniLM-L6-v2, 384 dimensions, unit length) under an HNSW index for cosine distance, and full text for
-- hybrid ranking. The extension is created by the database's superuser (the embedded stack, deploy/postgres);
-- here it is only checked for.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE passages (
    job_id       uuid NOT NULL,
    idx          integer NOT NULL,
    recording_id uuid NOT NULL,
    tenant_id    text NOT NULL,
    kind         text NOT NULL,
    start_s      double precision NOT NULL,
    end_s        double precision NOT NULL,
    speaker      text,
    text         text NOT NULL,
    model        text NOT NULL,
    embedding    vector(384) NOT NULL,
    search       tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX passages_embedding ON passages USING hnsw (embedding vector_cosine_ops);
CREATE INDEX passages_search ON passages USING gin (search);
CREATE INDEX passages_recording ON passages (tenant_id, recording_id);
