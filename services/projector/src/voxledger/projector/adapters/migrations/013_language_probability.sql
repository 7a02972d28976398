-- The language detector's confidence in a job's language (TranscriptionCompleted.language_probability);
-- null for jobs completed before it was recorded.
ALTER TABLE jobs ADD COLUMN language_probability double precision;
