// Widgets more than one view shows: a job's status (badge, words, progress) and its actions.
import { api } from "./api.js";
import { h } from "./dom.js";
import { ACTIVE, describe } from "./jobs.js";
import { retranscribe } from "./options.js";

export function jobActions(job, recordingId, { onDeleted } = {}) {
  const busy = (fn) => async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      await fn();
    } catch (err) {
      alert(err.message);
    } finally {
      button.disabled = false;
    }
  };
  return [
    job &&
      ACTIVE.has(job.status) &&
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "data-action": "cancel",
          onclick: busy(() => api(`/v1/jobs/${job.job_id}/cancel`, { method: "POST" })),
        },
        "Cancel",
      ),
    h(
      "button",
      { type: "button", class: "secondary", "data-action": "retranscribe", onclick: () => retranscribe(recordingId) },
      "Re-transcribe",
    ),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        "data-action": "delete",
        onclick: busy(async () => {
          if (!confirm("Delete this recording, its audio, transcripts and insights?")) return;
          await api(`/v1/recordings/${recordingId}`, { method: "DELETE" });
          onDeleted?.();
        }),
      },
      "Delete",
    ),
  ];
}

export function statusCell(job, recordingStatus) {
  const status = job?.status || recordingStatus;
  const detail = job ? describe(job, recordingStatus) : status;
  return h(
    "span",
    { class: "status", "data-status": status },
    h("span", { class: "badge" }, status),
    h("span", { class: "detail" }, detail === status ? "" : detail),
    status === "running" && h("progress", { max: 1, value: job?.progress || 0, "aria-label": "progress" }),
  );
}

// A row's actions folded into one "⋯" menu, so that a row fits a phone's width.
export function rowMenu(items) {
  return h(
    "details",
    { class: "row-menu" },
    h("summary", { "aria-label": "Actions", title: "Actions" }, "⋯"),
    h("div", { class: "menu" }, items),
  );
}
