// The recordings page: upload (pick or drop, a progress bar per file), the list newest first with paging and a
// status filter, each row's live state from the tenant's one event stream, and cancel, re-transcribe, delete.
import { api, upload } from "./api.js";
import { h, notice, replace } from "./dom.js";
import { applyEvent, clock, fromApi } from "./jobs.js";
import { BulkBar, tagChips } from "./library.js";
import { optionFields } from "./options.js";
import { stream } from "./stream.js";
import { RECORDING_STATUSES } from "./vocabulary.js";
import { jobActions, rowMenu, statusCell } from "./widgets.js";

const PAGE = 20;
const STATUSES = ["", ...RECORDING_STATUSES];
const REFRESH_QUEUE = new Set([
  "TranscriptionRequested",
  "TranscriptionStarted",
  "TranscriptionCompleted",
  "TranscriptionFailed",
  "TranscriptionCancelled",
]);

function uploader() {
  const fields = optionFields("upload");
  const files = h("ul", { class: "uploads", "aria-label": "Uploads" });
  const send = (list) => {
    for (const file of list) {
      const bar = h("progress", { max: 1, value: 0, "aria-label": `upload of ${file.name}` });
      const state = h("span", { class: "detail" }, "uploading");
      files.prepend(h("li", { "data-file": file.name }, h("span", { class: "name" }, file.name), bar, state));
      upload(file, fields.read(), (p) => {
        bar.value = p;
      }).then(
        (accepted) => {
          bar.value = 1;
          state.textContent = "uploaded"; // its row appears from the stream (RecordingUploaded)
          state.dataset.recordingId = accepted.recording_id;
        },
        (err) => {
          state.textContent = `refused: ${err.message}`;
          state.classList.add("error");
        },
      );
    }
  };
  const input = h("input", {
    type: "file",
    id: "file-input",
    multiple: true,
    accept: "audio/*,video/*",
    onchange: () => {
      send([...input.files]);
      input.value = "";
    },
  });
  const zone = h(
    "label",
    {
      class: "drop",
      for: "file-input",
      tabindex: "0",
      onkeydown: (e) => {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        input.click();
      },
      ondragover: (e) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        send([...e.dataTransfer.files]);
      },
    },
    "Drop audio files here, or ",
    h("u", {}, "choose files"),
    input,
  );
  return h("section", { class: "card upload", "aria-label": "Upload" }, h("h2", {}, "Upload"), zone, fields.el, files);
}

// What a row says of a recording besides its name: how long it is and the model that transcribed it.
function meta(recording, job) {
  const length = recording.duration_s != null ? clock(recording.duration_s) : null;
  return [length, job?.model].filter(Boolean).join(" · ");
}

// The list: rows keyed by recording id, each with its latest job as the events have shaped it.
class RecordingList {
  constructor(tag) {
    this.rows = new Map(); // recording_id -> {recording, job, el}
    this.body = h("tbody");
    this.message = h("div");
    this.filter = h(
      "select",
      { id: "status-filter", "aria-label": "Status filter" },
      STATUSES.map((s) => h("option", { value: s }, s || "all statuses")),
    );
    this.tag = h("input", { id: "tag-filter", "aria-label": "Tag filter", placeholder: "tag", value: tag, size: 10 });
    this.older = h("button", { type: "button", class: "secondary", id: "older", hidden: true }, "Older");
    this.newer = h("button", { type: "button", class: "secondary", id: "newer", hidden: true }, "Newer");
    this.cursors = [null]; // the cursor of each page visited; the last is the current page's
    this.nextCursor = null;
    this.buffered = []; // events that arrive while a page loads, applied once it has
    this.queueTimer = null;
    this.bulk = new BulkBar();
    for (const control of [this.filter, this.tag])
      control.addEventListener("change", () => {
        this.cursors.splice(1);
        this.load();
      });
    this.older.addEventListener("click", () => {
      this.cursors.push(this.nextCursor);
      this.load();
    });
    this.newer.addEventListener("click", () => {
      this.cursors.pop();
      this.load();
    });
    this.off = stream.on(
      (event) => (this.buffered ? this.buffered.push(event) : this.apply(event)),
      () => this.load(), // events were skipped: the page is read anew
    );
  }

  render(id) {
    const row = this.rows.get(id);
    const r = row.recording;
    const el = h(
      "tr",
      { "data-recording-id": id, "data-status": row.job?.status || r.status },
      h("td", { class: "pick" }, this.bulk.checkbox(r)),
      h(
        "td",
        {},
        h("a", { href: `#/recordings/${id}` }, r.name || r.filename || "…"),
        tagChips(r.tags, (tag) => this.filterByTag(tag)),
        h("div", { class: "meta muted" }, meta(r, row.job)),
      ),
      h("td", { class: "when" }, r.created_at ? new Date(r.created_at).toLocaleString() : ""),
      h("td", {}, statusCell(row.job, r.status)),
      h("td", {}, rowMenu(jobActions(row.job, id, { onDeleted: () => this.drop(id) }))),
    );
    row.el ? row.el.replaceWith(el) : this.body.prepend(el);
    row.el = el;
    this.message.querySelector(".empty")?.remove();
  }

  // Named, tagged or filed (here or elsewhere): the row shows it at once; an empty name falls back to the file's.
  described(row, { name, tags, folder }) {
    row.recording = { ...row.recording, name: name || row.recording.filename, tags, folder };
    this.render(row.recording.recording_id);
  }

  filterByTag(tag) {
    this.tag.value = tag;
    this.cursors.splice(1);
    this.load();
  }

  drop(id) {
    this.bulk.toggle({ recording_id: id }, false);
    this.rows.get(id)?.el?.remove();
    this.rows.delete(id);
  }

  // Queue positions move with other jobs' events: read them again, once for a burst of events.
  refreshQueue() {
    clearTimeout(this.queueTimer);
    this.queueTimer = setTimeout(async () => {
      const queue = await api("/v1/queue").catch(() => ({ items: [] }));
      for (const j of queue.items) {
        const row = this.rows.get(j.recording_id);
        if (row?.job?.job_id === j.job_id && row.job.status === "queued") {
          row.job = { ...row.job, queue_position: j.queue_position };
          this.render(j.recording_id);
        }
      }
    }, 100);
  }

  // A recording that appears while the first page is shown gets its row at once, its name once read.
  added(event) {
    const id = event.recording_id;
    const job = event.type === "LiveSessionStarted" ? applyEvent(undefined, event) : undefined;
    const status = job ? "live" : "uploaded";
    this.rows.set(id, { recording: { recording_id: id, status, created_at: event.occurred_at }, job });
    this.render(id);
    api(`/v1/recordings/${id}?min_seq=${event.seq}`).then((r) => {
      if (!this.rows.has(id)) return;
      this.rows.get(id).recording = r;
      this.render(id);
    });
  }

  apply(event) {
    const id = event.recording_id;
    if (event.type === "RecordingDeleted") return this.drop(id);
    const created = event.type === "RecordingUploaded" || event.type === "LiveSessionStarted";
    const unfiltered = this.cursors.length === 1 && !this.filter.value && !this.tag.value.trim();
    if (created && !this.rows.has(id) && unfiltered) return this.added(event);
    const row = this.rows.get(id);
    if (row && event.type === "RecordingDescribed") return this.described(row, event.data);
    if (!row || !event.data?.job_id) return;
    if (event.type === "TranscriptionRequested" && row.job?.job_id !== event.data.job_id) row.job = undefined;
    if (row.job && row.job.job_id !== event.data.job_id) return; // an older job's late event
    row.job = applyEvent(row.job, event);
    this.render(id);
    if (REFRESH_QUEUE.has(event.type)) this.refreshQueue();
  }

  // One page, read with the stream's position as min_seq; events that came meanwhile are applied after it.
  async load() {
    this.buffered = [];
    this.bulk.clear();
    replace(this.message);
    const seq = await stream.ready();
    const params = new URLSearchParams({ limit: PAGE, min_seq: seq });
    if (this.filter.value) params.set("status", this.filter.value);
    if (this.tag.value.trim()) params.set("tag", this.tag.value.trim());
    if (this.cursors.at(-1)) params.set("cursor", this.cursors.at(-1));
    try {
      const [page, queue] = await Promise.all([api(`/v1/recordings?${params}`), api(`/v1/queue?min_seq=${seq}`)]);
      await this.show(page, queue);
    } catch (err) {
      this.message.append(notice(`The list could not be loaded: ${err.message}`));
    } finally {
      const pending = this.buffered;
      this.buffered = null;
      for (const event of pending) this.apply(event);
      this.body.parentElement?.setAttribute("aria-busy", "false");
    }
  }

  async show(page, queue) {
    const active = new Map(queue.items.map((j) => [j.job_id, fromApi(j)]));
    this.rows.clear();
    this.body.replaceChildren();
    for (const r of [...page.items].reverse()) {
      this.rows.set(r.recording_id, { recording: r, job: active.get(r.latest_job_id) });
      this.render(r.recording_id);
    }
    // Finished jobs are not in the queue: read each (a failed one's reason is shown).
    await Promise.all(
      page.items
        .filter((r) => r.latest_job_id && !active.has(r.latest_job_id))
        .map(async (r) => {
          const job = fromApi(await api(`/v1/jobs/${r.latest_job_id}`));
          const row = this.rows.get(r.recording_id);
          if (!row || row.job) return;
          row.job = job;
          this.render(r.recording_id);
        }),
    );
    this.nextCursor = page.next_cursor;
    this.older.hidden = !this.nextCursor;
    this.newer.hidden = this.cursors.length === 1;
    if (!page.items.length) {
      const filtered = this.filter.value || this.tag.value.trim();
      const empty = filtered ? "No recordings match these filters." : "No recordings yet: upload one above.";
      this.message.append(h("p", { class: "muted empty" }, empty));
    }
  }

  element() {
    const head = ["", "Recording", "Uploaded", "Status", ""].map((t) =>
      h("th", { class: t === "Uploaded" ? "when" : null }, t),
    );
    const table = h(
      "table",
      { class: "recordings", "aria-busy": "true" },
      h("thead", {}, h("tr", {}, head)),
      this.body,
    );
    return h(
      "section",
      { class: "card" },
      h("div", { class: "list-head" }, h("h2", {}, "Recordings"), this.tag, this.filter),
      this.bulk.el,
      this.message,
      h("div", { class: "scroll" }, table),
      h("div", { class: "pager" }, this.newer, this.older),
    );
  }

  leave() {
    this.off();
    clearTimeout(this.queueTimer);
  }
}

export function recordingsView(tag = "") {
  const list = new RecordingList(tag);
  list.load();
  return { el: h("div", { class: "page" }, uploader(), list.element()), nav: "recordings", leave: () => list.leave() };
}
