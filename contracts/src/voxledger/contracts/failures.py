"""What a tenant reads when a job, an insight or a live session fails: a stable code and one fixed, plain sentence.

The details (exception text, file paths, host names, limits) go to the logs only. Workers write these
sentences into their events, and the gateway serves them by code, so an older event's message, whatever
it held, is never shown.
"""

PUBLIC_MESSAGES: dict[str, str] = {
    "audio_empty": "the audio file holds no audio",
    "audio_truncated": "the audio file is cut off: it ends before what its header declares",
    "audio_corrupt": "the audio stream is damaged",
    "audio_undecodable": "the file could not be decoded as audio",
    "audio_too_long": "the audio is longer than this deployment accepts",
    "no_audio_stream": "the file has no audio stream",
    "unsupported_audio_format": "the file is not in a supported audio format",
    "unsupported_audio_codec": "the audio is encoded with a codec that is not supported",
    "unsupported_audio_parameters": "the audio's sample rate or channel count is outside the supported range",
    "model_unavailable": "the requested model cannot be loaded on this deployment",
    "model_process_died": "the transcription process stopped unexpectedly",
    "attempt_timeout": "the transcription took longer than its time limit",
    "worker_lost": "no worker could finish the job",
    "recording_deleted": "the recording was deleted",
    "live_session_failed": "the live session failed on every try and was ended",
    "insight_timeout": "the insight took longer than its time limit",
    "engine_error": "the insight engine failed",
    "internal_error": "the transcription failed for an internal reason",
}
GENERIC = PUBLIC_MESSAGES["internal_error"]


def public_message(code: str) -> str:
    """The sentence shown for `code`; a code without one reads as an internal failure."""
    return PUBLIC_MESSAGES.get(code, GENERIC)
