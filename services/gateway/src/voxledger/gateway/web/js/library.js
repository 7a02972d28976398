// A recording as a library item: its name, tags and folder (PATCH /v1/recordings/{id}), and the file name of
// an export (the gateway names it after the recording in Content-Disposition).
import { api } from "./api.js";
import { h, modal } from "./dom.js";

// The file name a Content-Disposition gives (RFC 6266: filename* wins over the ASCII filename), or the fallback.
export function attachmentName(header, fallback) {
  const star = header?.match(/filename\*=UTF-8''([^;]+)/i);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // a malformed escape: the ASCII name below
    }
  }
  return header?.match(/filename="([^"]*)"/i)?.[1] || fallback;
}

// "sales, q3 ,, Sales" -> ["sales", "q3", "Sales"]: trimmed, empty ones dropped (the server drops repeats).
export function parseTags(text) {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

// Tags as chips; `onTag(tag)` (if given) makes each a button, e.g. to filter the list by it.
export function tagChips(tags, onTag) {
  return (tags || []).map((tag) =>
    onTag
      ? h("button", { type: "button", class: "tag", "data-tag": tag, onclick: () => onTag(tag) }, tag)
      : h("span", { class: "tag", "data-tag": tag }, tag),
  );
}

// A dialog that names, tags and files a recording; resolves with the result (and its consistency token), or null.
export function describeRecording(recording) {
  const field = (id, label, value, hint) =>
    h("label", { for: id }, label, h("input", { id, value, placeholder: hint || "", autocomplete: "off" }));
  const name = field("describe-name", "Name", recording.name);
  const tags = field("describe-tags", "Tags", (recording.tags || []).join(", "), "comma-separated");
  const folder = field("describe-folder", "Folder", recording.folder || "");
  const value = (label) => label.querySelector("input").value;
  return modal({
    title: "Name and file",
    fields: h("div", { class: "fields" }, name, tags, folder),
    submitText: "Save",
    submit: async () => {
      const body = { name: value(name), tags: parseTags(value(tags)), folder: value(folder) };
      const response = await api(`/v1/recordings/${recording.recording_id}`, { method: "PATCH", body, raw: true });
      return { ...(await response.json()), token: response.headers.get("X-Consistency-Token") };
    },
  });
}

// What to do with the selected recordings: each action goes through the ordinary per-recording API, so each
// is checked and recorded like a single one; resolves once all have answered (the first error is thrown).
export const bulk = {
  async tag(recordings, tag) {
    await Promise.all(
      recordings.map((r) =>
        api(`/v1/recordings/${r.recording_id}`, { method: "PATCH", body: { tags: [...(r.tags || []), tag] } }),
      ),
    );
  },
  async move(recordings, folder) {
    await Promise.all(
      recordings.map((r) => api(`/v1/recordings/${r.recording_id}`, { method: "PATCH", body: { folder } })),
    );
  },
  async remove(recordings) {
    await Promise.all(recordings.map((r) => api(`/v1/recordings/${r.recording_id}`, { method: "DELETE" })));
  },
  // One zip of their transcripts, saved as the gateway names it.
  async export(recordings, format) {
    const query = new URLSearchParams({ format });
    for (const r of recordings) query.append("recording_id", r.recording_id);
    const response = await api(`/v1/recordings/export?${query}`, { raw: true });
    save(await response.blob(), attachmentName(response.headers.get("Content-Disposition"), "recordings.zip"));
  },
};

// A file the browser saves, from bytes already fetched (with the key, which a plain link could not send).
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A one-field dialog (a tag to add, a folder to move to); resolves with the value, or null.
export function askOne(title, label, submitText) {
  const input = h("input", { id: "ask-one", autocomplete: "off", required: true });
  return modal({
    title,
    fields: h("div", { class: "fields" }, h("label", { for: "ask-one" }, label, input)),
    submitText,
    submit: async () => input.value.trim(),
  });
}

// The recordings picked in the list, and what can be done to all of them at once. The list shows the outcome
// as the events arrive (a tag, a folder, a deletion), as it does for a change made elsewhere.
export class BulkBar {
  constructor() {
    this.picked = new Map(); // recording_id -> recording
    this.count = h("span", { class: "count" });
    this.format = h(
      "select",
      { id: "bulk-format", "aria-label": "Export format" },
      ["txt", "srt", "vtt"].map((f) => h("option", { value: f }, f.toUpperCase())),
    );
    const act = (name, label, run, cls = "secondary") =>
      h("button", { type: "button", class: cls, "data-bulk": name, onclick: () => this.run(run) }, label);
    this.el = h(
      "div",
      { class: "bulk", hidden: true, role: "toolbar", "aria-label": "Selected recordings" },
      this.count,
      act("tag", "Tag…", async (rs) => {
        const tag = await askOne("Tag the selected recordings", "Tag", "Add tag");
        if (tag) await bulk.tag(rs, tag);
        return Boolean(tag);
      }),
      act("move", "Move…", async (rs) => {
        const folder = await askOne("Move the selected recordings", "Folder", "Move");
        if (folder) await bulk.move(rs, folder);
        return Boolean(folder);
      }),
      this.format,
      act("export", "Export", async (rs) => bulk.export(rs, this.format.value).then(() => false)),
      act(
        "delete",
        "Delete",
        async (rs) =>
          confirm(`Delete ${rs.length} recordings, their audio, transcripts and insights?`) &&
          bulk.remove(rs).then(() => true),
        "danger",
      ),
    );
  }

  // `run(recordings)` resolves true when the list should be read again.
  async run(action) {
    try {
      if (await action([...this.picked.values()])) this.onDone();
    } catch (err) {
      alert(err.message);
    }
  }

  checkbox(recording) {
    return h("input", {
      type: "checkbox",
      class: "pick",
      "aria-label": `Select ${recording.name || recording.filename}`,
      checked: this.picked.has(recording.recording_id),
      onchange: (e) => this.toggle(recording, e.currentTarget.checked),
    });
  }

  toggle(recording, on) {
    if (on) this.picked.set(recording.recording_id, recording);
    else this.picked.delete(recording.recording_id);
    this.el.hidden = this.picked.size === 0;
    this.count.textContent = `${this.picked.size} selected`;
  }

  clear() {
    this.picked.clear();
    this.el.hidden = true;
  }
}
