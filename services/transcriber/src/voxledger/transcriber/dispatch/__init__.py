"""The fair dispatcher: holds the queued transcription work and hands it to workers as they free up."""
