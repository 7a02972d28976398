"""The one vocabulary of states the read models and the API report; every service spells them from here."""

from typing import Literal, get_args

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
# A recording shows its latest job's status; before any job it is `uploaded`, during a live session `live`.
RecordingStatus = Literal["uploaded", "queued", "running", "completed", "failed", "cancelled", "live"]
LiveSessionStatus = Literal["running", "ended"]
InsightStatus = Literal["pending", "running", "ready", "failed"]

JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
FINISHED_JOB_STATUSES: tuple[JobStatus, ...] = ("completed", "failed", "cancelled")
RECORDING_STATUSES: tuple[RecordingStatus, ...] = get_args(RecordingStatus)
