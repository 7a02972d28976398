// A recording's page: the player and the transcript side by side (the segment playing is highlighted and kept in
// view, click to seek, Space plays and pauses), every job, exports, and the insights.
import { api } from "./api.js";
import { h, notice, replace } from "./dom.js";
import { insightsPanel } from "./insights.js";
import { applyEvent, clock, fromApi } from "./jobs.js";
import { attachmentName, describeRecording, save, tagChips } from "./library.js";
import { Player } from "./player.js";
import { stream } from "./stream.js";
import { jobActions, statusCell } from "./widgets.js";

const FORMATS = ["txt", "srt", "vtt", "json"];

function segmentEl(segment, seek) {
  // A word is [start, end, word, probability] (the API's compact form).
  const words = segment.words?.length
    ? segment.words.map(([start, end, word]) =>
        h(
          "span",
          {
            class: "word",
            "data-start": start,
            "data-end": end,
            onclick: (e) => {
              e.stopPropagation();
              seek(start);
            },
          },
          word,
        ),
      )
    : [segment.text.trim()];
  return h(
    "li",
    {
      class: "segment",
      "data-index": segment.index,
      "data-start": segment.start,
      "data-end": segment.end,
      tabindex: "0",
      onclick: () => seek(segment.start),
      onkeydown: (e) => e.key === "Enter" && seek(segment.start),
    },
    h("button", { type: "button", class: "time", tabindex: "-1" }, clock(segment.start)),
    segment.speaker && h("span", { class: "speaker" }, segment.speaker), // filled once diarization exists
    h("span", { class: "text" }, words),
  );
}

// `call.ogg` exports as `call.json`, as the gateway names the other formats.
const exportStem = (name) => name.replace(/\.(ogg|oga|opus|wav|mp3|m4a|mp4|aac|flac|webm)$/i, "");

// An export, saved under the name the gateway gives it (the recording's name), else `<name>.<format>`.
async function download(recording, jobId, format) {
  const path = `/v1/recordings/${recording.recording_id}/transcript?format=${format}&job_id=${jobId}`;
  const response = await api(path, { raw: true });
  save(
    await response.blob(),
    attachmentName(response.headers.get("Content-Disposition"), `${exportStem(recording.name)}.${format}`),
  );
}

// The transcript of one job: segments by index (one arriving twice, on a resumed stream, is shown once), and the
// one at the player's time highlighted (word by word where words have times) and kept in view.
class Transcript {
  constructor(seek) {
    this.seek = seek;
    this.el = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Transcript" });
    this.segments = new Map(); // index -> element
    this.current = null;
  }

  clear() {
    this.segments.clear();
    this.el.replaceChildren();
    this.current = null;
  }

  add(items) {
    for (const s of items) {
      if (this.segments.has(s.index)) continue;
      const el = segmentEl(s, this.seek);
      this.segments.set(s.index, el);
      const after = [...this.segments.keys()].filter((i) => i < s.index).sort((a, b) => b - a)[0];
      after === undefined ? this.el.prepend(el) : this.segments.get(after).after(el);
    }
  }

  follow(t) {
    const within = (el) => t >= Number(el.dataset.start) && t < Number(el.dataset.end);
    const at = [...this.segments.values()].find(within);
    if (at !== this.current) {
      this.current?.classList.remove("current");
      at?.classList.add("current");
      at?.scrollIntoView({ block: "nearest", behavior: "smooth" });
      this.current = at;
    }
    for (const w of this.current?.querySelectorAll(".word") || []) w.classList.toggle("current", within(w));
  }
}

class RecordingPage {
  constructor(recordingId, startAt) {
    this.id = recordingId;
    this.startAt = startAt;
    this.message = h("div");
    this.player = new Player(recordingId, (err) => this.message.append(notice(err.message)));
    this.audio = this.player.el;
    this.transcript = new Transcript((t) => this.seek(t));
    this.insights = insightsPanel(recordingId, (t) => this.seek(t));
    this.head = h("div", { class: "rec-head" });
    this.jobsBody = h("tbody");
    this.exports = h("div", { class: "exports", "aria-label": "Export" });
    this.jobs = new Map();
    this.recording = null;
    this.selected = null;
    this.pinned = false; // the transcript follows the newest job until a job is picked
    this.buffered = []; // events that arrive while the page loads, applied once it has
    this.audio.addEventListener("timeupdate", () => this.transcript.follow(this.audio.currentTime));
    this.onKey = (e) => this.key(e);
    document.addEventListener("keydown", this.onKey);
    this.off = stream.on(
      (event) => (this.buffered ? this.buffered.push(event) : this.apply(event)),
      () => this.refresh().catch((err) => this.message.append(notice(err.message))), // events were skipped
    );
  }

  seek(t, play = true) {
    this.audio.currentTime = t;
    if (play) this.audio.play().catch(() => {});
  }

  // Space plays and pauses, except where Space means something else (a field, a button, the player itself).
  key(e) {
    if (e.code !== "Space" || e.target.closest("input, textarea, select, button, audio, [contenteditable]")) return;
    e.preventDefault();
    this.audio.paused ? this.audio.play().catch(() => {}) : this.audio.pause();
  }

  renderHead() {
    const job = this.jobs.get(this.recording.latest_job_id);
    replace(
      this.head,
      h("h1", {}, this.recording.name),
      statusCell(job, this.recording.status),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: "secondary", "data-action": "describe", onclick: () => this.describe() },
          "Rename",
        ),
        jobActions(job, this.id, { onDeleted: () => this.leaveDeleted() }),
      ),
      h(
        "p",
        { class: "filed" },
        this.recording.folder && h("span", { class: "folder" }, `Folder: ${this.recording.folder}`),
        tagChips(this.recording.tags, (tag) => {
          location.hash = `#/?tag=${encodeURIComponent(tag)}`;
        }),
      ),
    );
  }

  async describe() {
    const described = await describeRecording(this.recording);
    if (!described) return;
    const { name, tags, folder } = described;
    this.recording = { ...this.recording, name, tags, folder };
    this.renderHead();
  }

  jobRow(j) {
    const shown = j.job_id === this.selected;
    const time = (at) => h("td", { class: "when" }, at ? new Date(at).toLocaleTimeString() : "");
    return h(
      "tr",
      { "data-job-id": j.job_id, "data-status": j.status, class: shown ? "selected" : null },
      h("td", {}, statusCell(j, j.job_id === this.recording.latest_job_id ? this.recording.status : undefined)),
      h("td", {}, String(j.attempt ?? "")),
      h("td", {}, j.model || "default"),
      time(j.created_at),
      time(j.finished_at),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            disabled: shown,
            onclick: () => {
              this.pinned = true;
              this.select(j.job_id);
            },
          },
          shown ? "shown" : "Show",
        ),
      ),
    );
  }

  renderJobs() {
    const newestFirst = [...this.jobs.values()].sort((a, b) => (a.created_at > b.created_at ? -1 : 1));
    replace(
      this.jobsBody,
      newestFirst.map((j) => this.jobRow(j)),
    );
    replace(
      this.exports,
      this.jobs.get(this.selected)?.status === "completed"
        ? FORMATS.map((f) =>
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                "data-format": f,
                onclick: () => download(this.recording, this.selected, f),
              },
              f.toUpperCase(),
            ),
          )
        : h("span", { class: "muted" }, "Exports once the job completes."),
    );
  }

  async select(jobId, seq = stream.lastId) {
    this.selected = jobId;
    this.transcript.clear();
    this.renderJobs();
    if (!jobId) return;
    const t = await api(`/v1/recordings/${this.id}/transcript?job_id=${jobId}&min_seq=${seq}`);
    if (this.selected === jobId) this.transcript.add(t.segments);
    if (this.jobs.get(jobId)?.status === "completed") this.insights.load(jobId, seq);
    else this.insights.waiting();
  }

  apply(event) {
    if (event.recording_id !== this.id) return;
    if (event.type === "RecordingDeleted") return this.leaveDeleted();
    const jobId = event.data?.job_id;
    if (!jobId) return;
    const shown = jobId === this.selected;
    if (event.type.startsWith("Insight")) return shown && this.insights.changed(jobId, event.seq);
    this.jobs.set(jobId, applyEvent(this.jobs.get(jobId), event));
    if (event.type === "TranscriptionRequested") {
      this.recording.latest_job_id = jobId;
      if (!this.pinned) this.select(jobId, event.seq);
    }
    if (event.type === "SegmentsTranscribed" && shown) this.transcript.add(event.data.segments);
    if (event.type === "TranscriptionCompleted" && shown) this.insights.waiting("running");
    this.renderHead();
    this.renderJobs();
  }

  // The recording and its latest job, then the audio, streamed by a link (see player.js).
  async open() {
    if (!(await this.refresh())) return;
    await this.player.load();
    if (this.startAt != null)
      this.audio.addEventListener("loadedmetadata", () => this.seek(this.startAt), { once: true });
  }

  // The recording and its jobs read with the stream's position as min_seq, then the events since: on opening,
  // and when the stream skipped events (a resume too far back). False when the recording is gone.
  async refresh() {
    this.buffered ??= [];
    const seq = await stream.ready();
    try {
      this.recording = await api(`/v1/recordings/${this.id}?min_seq=${seq}`);
    } catch (err) {
      replace(this.message, notice(err.status === 404 ? "No such recording." : err.message));
      return false;
    }
    this.jobs = new Map((this.recording.jobs || []).map((j) => [j.job_id, fromApi(j)]));
    this.renderHead();
    await this.select(this.pinned ? this.selected : this.recording.latest_job_id, seq);
    const pending = this.buffered;
    this.buffered = null;
    for (const event of pending) this.apply(event);
    return true;
  }

  element() {
    const heads = ["Status", "Attempt", "Model", "Requested", "Finished", ""].map((t, i) =>
      h("th", { class: i === 3 || i === 4 ? "when" : null }, t),
    );
    const jobs = h("table", { class: "jobs" }, h("thead", {}, h("tr", {}, heads)), this.jobsBody);
    return h(
      "div",
      { class: "page recording" },
      this.message,
      this.head,
      h(
        "div",
        { class: "split" },
        h(
          "section",
          { class: "card player" },
          this.audio,
          h("p", { class: "muted hint" }, "Space plays and pauses; click a line to jump there."),
          h("h2", {}, "Export"),
          this.exports,
          h("h2", {}, "Jobs"),
          h("div", { class: "scroll" }, jobs),
        ),
        h("section", { class: "card" }, h("h2", {}, "Transcript"), this.transcript.el),
      ),
      this.insights.el,
    );
  }

  // The recording is gone: back to the list.
  leaveDeleted() {
    location.hash = "#/";
  }

  leave() {
    this.off();
    document.removeEventListener("keydown", this.onKey);
    this.player.close();
  }
}

export function recordingView(recordingId, startAt) {
  const page = new RecordingPage(recordingId, startAt);
  page.open().catch((err) => page.message.append(notice(err.message)));
  return { el: page.element(), nav: "recordings", leave: () => page.leave() };
}
