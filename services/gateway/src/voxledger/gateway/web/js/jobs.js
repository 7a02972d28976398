// A job's state as the app shows it, folded from the job's events only: "completed" only once
// TranscriptionCompleted has arrived, "failed" with its reason, never a guess. Each event changes a job as the
// projector changes its row (projector/domain/projection.py), so a job folded from the stream reads the same as
// the API's after the same events: tests/js/job_fold.test.js holds the two to the projector's rows.
import { DEFAULT_PRIORITY, FINISHED_JOB_STATUSES, JOB_STATUSES } from "./vocabulary.js";

const FINISHED = new Set(FINISHED_JOB_STATUSES);
export const ACTIVE = new Set(JOB_STATUSES.filter((status) => !FINISHED.has(status)));

// A job as GET /v1/jobs or /v1/recordings/{id} reports it, in the shape the app keeps.
export function fromApi(job) {
  return {
    job_id: job.job_id,
    recording_id: job.recording_id,
    status: job.status,
    stage: job.stage,
    progress: job.progress ?? 0,
    eta_s: job.eta_s,
    queue_position: job.queue_position,
    priority: job.priority,
    attempt: job.attempt,
    model: job.model || job.options?.model || null,
    error: job.error,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    segment_count: job.segment_count,
  };
}

const failure = (d) => ({ code: d.error_code, message: d.message });

// What each event changes. An event seen again after the API already showed it (a page read while events
// arrived) never takes a job back: a request keeps a later status, and a finished job is final.
const CHANGES = {
  TranscriptionRequested: (d, at, job) => ({
    status: job.status || "queued",
    stage: job.stage || "queued",
    attempt: job.attempt ?? 0,
    model: d.options?.model ?? job.model,
    priority: d.options?.priority ?? DEFAULT_PRIORITY,
    created_at: job.created_at || at,
  }),
  TranscriptionStarted: (d, at) => ({
    status: "running",
    stage: "loading_audio", // the stage the read model sets too: never "queued" while running
    attempt: d.attempt,
    model: d.model,
    error: null,
    queue_position: null,
    started_at: at,
  }),
  TranscriptionProgressed: (d) => ({ stage: d.stage, progress: d.progress, eta_s: d.eta_s, queue_position: null }),
  TranscriptionAttemptFailed: (d) => ({ status: "queued", stage: "queued", error: failure(d) }),
  TranscriptionCompleted: (d, at) => ({
    status: "completed",
    stage: "finalizing",
    progress: 1,
    eta_s: 0,
    segment_count: d.segment_count,
    finished_at: at,
  }),
  TranscriptionFailed: (d, at) => ({ status: "failed", error: failure(d), finished_at: at }),
  TranscriptionCancelled: (_d, at) => ({ status: "cancelled", finished_at: at }),
  // A live session's job runs while it is spoken.
  LiveSessionStarted: (d, at, job) => ({
    status: "running",
    stage: "transcribing",
    attempt: 1,
    model: d.model,
    priority: job.priority ?? DEFAULT_PRIORITY,
    created_at: at,
    started_at: at,
  }),
};

// The job after one of its events; `job` may be undefined for a job first seen on the stream.
export function applyEvent(job, event) {
  const d = event.data;
  const next = job || { job_id: d.job_id, recording_id: event.recording_id, progress: 0 };
  const change = FINISHED.has(next.status) ? undefined : CHANGES[event.type];
  return change ? { ...next, ...change(d, event.occurred_at, next) } : { ...next };
}

const clock = (s) => {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
};
export { clock };

// The words a row or a job card shows for a state; a live recording's running job is listening.
export function describe(job, recordingStatus) {
  if (!job) return "uploaded";
  switch (job.status) {
    case "queued":
      return `${job.queue_position ? `queued, #${job.queue_position} in line` : "queued"}${
        job.priority && job.priority !== "normal" ? `, ${job.priority} priority` : ""
      }`;
    case "running": {
      if (recordingStatus === "live") return "live: listening";
      if (!job.stage || job.stage === "queued") return "starting"; // taken by a worker, no stage reported yet
      const pct = `${Math.round((job.progress || 0) * 100)}%`;
      const eta = job.eta_s != null && job.eta_s > 0 ? `, about ${clock(job.eta_s)} left` : "";
      return `${job.stage.replaceAll("_", " ")} ${pct}${eta}`;
    }
    case "failed":
      return `failed: ${job.error?.message || job.error?.code || "unknown reason"}`;
    default:
      return job.status;
  }
}
