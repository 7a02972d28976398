-- Fair queues: a job's priority within its tenant (TranscriptionRequested.options.priority) and the stream
-- sequence it was queued at, the order the dispatcher takes a tenant's jobs in; the gateway computes queue
-- positions from these (gateway/domain/queue.py). Jobs queued before this: normal, ordered by job id.
ALTER TABLE jobs ADD COLUMN priority text NOT NULL DEFAULT 'normal';
ALTER TABLE jobs ADD COLUMN queued_seq bigint;
-- The typical job time behind a queued job's ETA comes from the latest completions.
CREATE INDEX jobs_completed_recent ON jobs (finished_at DESC) WHERE status = 'completed';
