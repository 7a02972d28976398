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
