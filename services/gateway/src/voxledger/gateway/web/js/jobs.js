// A job's state as the app shows it, folded from the job's events only: "completed" only once
// TranscriptionCompleted has arrived, "failed" with its reason, never a guess.
const END = { TranscriptionCompleted: "completed", TranscriptionFailed: "failed", TranscriptionCancelled: "cancelled" };

export const ACTIVE = new Set(["queued", "running"]);

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

// The job after one of its events; `job` may be undefined for a job first seen on the stream.
export function applyEvent(job, event) {
  const d = event.data;
  const next = { ...(job || { job_id: d.job_id, recording_id: event.recording_id, progress: 0 }) };
  switch (event.type) {
    case "TranscriptionRequested":
      return { ...next, status: next.status || "queued", stage: "queued", model: d.options?.model ?? next.model,
        priority: d.options?.priority ?? next.priority, created_at: next.created_at || event.occurred_at };
    case "TranscriptionStarted": // the stage the read model sets too: never "queued" while running
      return { ...next, status: "running", stage: "loading_audio", attempt: d.attempt, model: d.model,
        queue_position: null, started_at: next.started_at || event.occurred_at };
    case "TranscriptionProgressed":
      return next.status in END_STATUS ? next
        : { ...next, status: "running", stage: d.stage, progress: d.progress, eta_s: d.eta_s, queue_position: null };
    case "LiveSessionStarted": // a live session's job runs while it is spoken
      return { ...next, status: "running", stage: "listening", model: d.model, started_at: event.occurred_at };
    case "TranscriptionAttemptFailed":
      return { ...next, attempt: d.attempt, stage: `retrying after ${d.error_code}` };
    default:
      if (END[event.type]) {
        const error = event.type === "TranscriptionFailed" ? { code: d.error_code, message: d.message } : null;
        return { ...next, status: END[event.type], error, finished_at: event.occurred_at,
          progress: event.type === "TranscriptionCompleted" ? 1 : next.progress, segment_count: d.segment_count };
      }
      return next;
  }
}
const END_STATUS = { completed: 1, failed: 1, cancelled: 1 };

const clock = (s) => {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
};
export { clock };

// The words a row or a job card shows for a state.
export function describe(job) {
  if (!job) return "uploaded";
  switch (job.status) {
    case "queued":
      return `${job.queue_position ? `queued, #${job.queue_position} in line` : "queued"}${
        job.priority && job.priority !== "normal" ? `, ${job.priority} priority` : ""}`;
    case "running": {
      if (job.stage === "listening") return "live: listening";
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
