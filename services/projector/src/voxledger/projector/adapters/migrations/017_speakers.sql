-- Speaker turns of a job (SpeakersDiarized: [[start, end, label], ...]), from which reads label segments and
-- words; and the names given to labels (rename and merge: {"S1": "Maria", "S2": "S1"}). Null: not diarized.
ALTER TABLE jobs ADD COLUMN speaker_turns jsonb;
ALTER TABLE jobs ADD COLUMN speaker_names jsonb;
-- The newest diarization re-run asked for (DiarizationRequested); its SpeakersDiarized carries the same run id.
ALTER TABLE jobs ADD COLUMN diarization_run_id text;
