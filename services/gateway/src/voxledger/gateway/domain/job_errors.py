"""What a tenant is told about a failed job or insight: a code and a plain message.

The message a worker recorded in the event can hold exception text, file paths or host names; that
detail is for the logs and the operator. The API shows the plain message for the code instead.
"""

PLAIN_MESSAGES = {
    "audio_empty": "the file holds no audio",
    "audio_undecodable": "the file is not an audio format that can be decoded",
    "no_audio_stream": "the file has no audio stream",
    "audio_corrupt": "the audio stream is damaged",
    "audio_truncated": "the file is cut off: its header declares more audio than it holds",
    "audio_too_long": "the recording is longer than this deployment accepts",
    "model_unavailable": "the model cannot be loaded on this deployment",
    "model_process_died": "the transcription process stopped unexpectedly",
    "attempt_timeout": "the transcription ran past its time limit",
    "worker_lost": "the worker running the job was lost",
    "internal_error": "an internal error stopped the job; it has been logged",
    "recording_deleted": "the recording was deleted",
    "insight_timeout": "the insight took longer than its time limit",
    "engine_error": "the insight engine failed",
}


def plain_message(code: str) -> str:
    return PLAIN_MESSAGES.get(code, f"the job failed ({code})")
