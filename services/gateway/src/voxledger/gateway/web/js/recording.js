// A recording's page: the player and the transcript side by side (the segment playing is highlighted and kept in
// view, click to seek, Space plays and pauses), every job, exports, and the insights.
import { api } from "./api.js";
import { h, notice, replace } from "./dom.js";
import { applyEvent, clock, fromApi } from "./jobs.js";
import { insightsPanel } from "./insights.js";
import { jobActions, statusCell } from "./recordings.js";
import { stream } from "./stream.js";

const FORMATS = ["txt", "srt", "vtt", "json"];

function segmentEl(segment, seek) {
  // A word is [start, end, word, probability] (the API's compact form).
  const words = segment.words?.length
    ? segment.words.map(([start, end, word]) => h("span", { class: "word", "data-start": start, "data-end": end,
        onclick: (e) => { e.stopPropagation(); seek(start); } }, word))
    : [segment.text.trim()];
  return h("li", { class: "segment", "data-index": segment.index, "data-start": segment.start, "data-end": segment.end,
    tabindex: "0", onclick: () => seek(segment.start), onkeydown: (e) => e.key === "Enter" && seek(segment.start) },
  h("button", { type: "button", class: "time", tabindex: "-1" }, clock(segment.start)),
  segment.speaker && h("span", { class: "speaker" }, segment.speaker), // filled once diarization exists
  h("span", { class: "text" }, words));
}

async function download(recordingId, jobId, format) {
  const response = await api(`/v1/recordings/${recordingId}/transcript?format=${format}&job_id=${jobId}`, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const a = h("a", { href: url, download: `${recordingId}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function recordingView(recordingId, startAt) {
  const audio = h("audio", { controls: true, preload: "auto", id: "player" });
  const list = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Transcript" });
  const head = h("div", { class: "rec-head" });
  const jobsBody = h("tbody");
  const exports = h("div", { class: "exports", "aria-label": "Export" });
  const insights = insightsPanel(recordingId, (t) => seek(t));
  const message = h("div");
  const jobs = new Map();
  const segments = new Map(); // index -> element: a segment arriving twice (a resumed stream) is shown once
  let recording = null;
  let selected = null;
  let pinned = false; // the transcript follows the newest job until a job is picked
  let current = null;
  let audioUrl = null;
  let buffered = [];

  function seek(t, play = true) {
    audio.currentTime = t;
    if (play) audio.play().catch(() => {});
  }

  const addSegments = (items) => {
    for (const s of items) {
      if (segments.has(s.index)) continue;
      const el = segmentEl(s, seek);
      segments.set(s.index, el);
      const after = [...segments.keys()].filter((i) => i < s.index).sort((a, b) => b - a)[0];
      after === undefined ? list.prepend(el) : segments.get(after).after(el);
    }
  };

  const renderHead = () => {
    const job = jobs.get(recording.latest_job_id);
    replace(head, h("h1", {}, recording.filename), statusCell(job, recording.status),
      h("div", { class: "actions" }, jobActions(job, recordingId, { onDeleted: () => (location.hash = "#/") })));
  };

  const renderJobs = () => {
    replace(jobsBody, [...jobs.values()].sort((a, b) => (a.created_at > b.created_at ? -1 : 1)).map((j) =>
      h("tr", { "data-job-id": j.job_id, "data-status": j.status, class: j.job_id === selected ? "selected" : null },
        h("td", {}, statusCell(j)), h("td", {}, String(j.attempt ?? "")), h("td", {}, j.model || "default"),
        h("td", { class: "when" }, j.created_at ? new Date(j.created_at).toLocaleTimeString() : ""),
        h("td", { class: "when" }, j.finished_at ? new Date(j.finished_at).toLocaleTimeString() : ""),
        h("td", {}, h("button", { type: "button", class: "secondary", disabled: j.job_id === selected,
          onclick: () => ((pinned = true), select(j.job_id)) }, j.job_id === selected ? "shown" : "Show")))));
    const job = jobs.get(selected);
    replace(exports, job?.status === "completed"
      ? FORMATS.map((f) => h("button", { type: "button", class: "secondary", "data-format": f,
          onclick: () => download(recordingId, selected, f) }, f.toUpperCase()))
      : h("span", { class: "muted" }, "Exports once the job completes."));
  };

  async function select(jobId, seq = stream.lastId) {
    selected = jobId;
    segments.clear();
    list.replaceChildren();
    renderJobs();
    if (!jobId) return;
    const t = await api(`/v1/recordings/${recordingId}/transcript?job_id=${jobId}&min_seq=${seq}`);
    if (selected === jobId) addSegments(t.segments);
    if (jobs.get(jobId)?.status === "completed") insights.load(jobId, seq);
    else insights.waiting();
  }

  const apply = (event) => {
    if (event.recording_id !== recordingId) return;
    if (event.type === "RecordingDeleted") return (location.hash = "#/");
    const jobId = event.data?.job_id;
    if (!jobId) return;
    if (event.type.startsWith("Insight")) return jobId === selected && insights.changed(jobId, event.seq);
    jobs.set(jobId, applyEvent(jobs.get(jobId), event));
    if (event.type === "TranscriptionRequested") {
      recording.latest_job_id = jobId;
      if (!pinned) select(jobId, event.seq);
    }
    if (event.type === "SegmentsTranscribed" && jobId === selected) addSegments(event.data.segments);
    if (event.type === "TranscriptionCompleted" && jobId === selected) insights.waiting("running");
    renderHead();
    renderJobs();
  };
  const off = stream.on((event) => (buffered ? buffered.push(event) : apply(event)));

  // The segment (and word) at the player's time: highlighted, and scrolled into view when it changes.
  audio.addEventListener("timeupdate", () => {
    const t = audio.currentTime;
    const at = [...segments.values()].find((el) => t >= Number(el.dataset.start) && t < Number(el.dataset.end));
    if (at !== current) {
      current?.classList.remove("current");
      at?.classList.add("current");
      at?.scrollIntoView({ block: "nearest", behavior: "smooth" });
      current = at;
    }
    for (const w of current?.querySelectorAll(".word") || []) {
      w.classList.toggle("current", t >= Number(w.dataset.start) && t < Number(w.dataset.end));
    }
  });
  const onKey = (e) => {
    if (e.code !== "Space" || e.target.closest("input, textarea, select, button, audio, [contenteditable]")) return;
    e.preventDefault();
    audio.paused ? audio.play().catch(() => {}) : audio.pause();
  };
  document.addEventListener("keydown", onKey);

  (async () => {
    const seq = await stream.ready();
    try {
      recording = await api(`/v1/recordings/${recordingId}?min_seq=${seq}`);
    } catch (err) {
      return replace(message, notice(err.status === 404 ? "No such recording." : err.message));
    }
    for (const j of recording.jobs || []) jobs.set(j.job_id, fromApi(j));
    renderHead();
    await select(recording.latest_job_id, seq);
    const pending = buffered;
    buffered = null;
    pending.forEach(apply);
    const blob = await (await api(`/v1/recordings/${recordingId}/audio`, { raw: true })).blob();
    audioUrl = URL.createObjectURL(blob);
    audio.src = audioUrl;
    if (startAt != null) audio.addEventListener("loadedmetadata", () => seek(startAt), { once: true });
  })().catch((err) => message.append(notice(err.message)));

  const el = h("div", { class: "page recording" }, message, head,
    h("div", { class: "split" },
      h("section", { class: "card player" }, audio, h("p", { class: "muted hint" }, "Space plays and pauses; click a line to jump there."),
        h("h2", {}, "Export"), exports,
        h("h2", {}, "Jobs"), h("div", { class: "scroll" }, h("table", { class: "jobs" },
          h("thead", {}, h("tr", {}, ["Status", "Attempt", "Model", "Requested", "Finished", ""].map((t, i) =>
            h("th", { class: i === 3 || i === 4 ? "when" : null }, t)))),
          jobsBody))),
      h("section", { class: "card" }, h("h2", {}, "Transcript"), list)),
    insights.el);
  return { el, nav: "recordings", leave: () => {
    off();
    document.removeEventListener("keydown", onKey);
    audio.pause();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
  } };
}
