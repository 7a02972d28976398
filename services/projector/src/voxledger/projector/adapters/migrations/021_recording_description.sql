-- A recording's name, tags and folder as a person set them (RecordingDescribed): the list filters by tag and
-- folder, and exports are named after the name. Empty until set; the gateway falls back to the filename.
ALTER TABLE recordings ADD COLUMN name text NOT NULL DEFAULT '';
-- jsonb, as every list the projector writes (its batched writes pass each column as one array parameter)
ALTER TABLE recordings ADD COLUMN tags jsonb NOT NULL DEFAULT '[]';
ALTER TABLE recordings ADD COLUMN folder text NOT NULL DEFAULT '';
CREATE INDEX recordings_tags ON recordings USING gin (tags jsonb_path_ops);
CREATE INDEX recordings_folder ON recordings (tenant_id, folder) WHERE folder <> '';
