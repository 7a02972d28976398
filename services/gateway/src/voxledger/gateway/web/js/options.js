// Transcription options (language, model from GET /v1/models, priority, word timestamps), for uploads and re-transcribing.
import { api } from "./api.js";
import { h, modal, replace } from "./dom.js";
import { DEFAULT_PRIORITY, PRIORITIES } from "./vocabulary.js";

// A job's place among the tenant's own queued jobs (the fair queue orders tenants first); the default first.
const PRIORITY_CHOICES = [DEFAULT_PRIORITY, ...PRIORITIES.filter((p) => p !== DEFAULT_PRIORITY)];
const LANGUAGES = [
  ["", "detect"],
  ["en", "English"],
  ["de", "German"],
  ["fr", "French"],
  ["es", "Spanish"],
  ["it", "Italian"],
  ["nl", "Dutch"],
  ["pt", "Portuguese"],
  ["ja", "Japanese"],
  ["zh", "Chinese"],
];
let models = null;

export async function servedModels() {
  models ??= api("/v1/models").catch(() => ({ items: [], default: null }));
  return models;
}

// Only the languages the model transcribes (GET /v1/models: `languages`, null for any): English for `.en` ones.
function offerLanguages(select, languages) {
  const chosen = select.value;
  const offered = languages ? LANGUAGES.filter(([value]) => languages.includes(value)) : LANGUAGES;
  replace(
    select,
    offered.map(([value, label]) => h("option", { value }, label)),
  );
  if (offered.some(([value]) => value === chosen)) select.value = chosen;
}

// The option fields; `read()` gives them as the API takes them.
export function optionFields(prefix) {
  const language = h(
    "select",
    { id: `${prefix}-language`, name: "language" },
    LANGUAGES.map(([value, label]) => h("option", { value }, label)),
  );
  const model = h("select", { id: `${prefix}-model`, name: "model" }, h("option", { value: "" }, "default"));
  const priority = h(
    "select",
    { id: `${prefix}-priority`, name: "priority" },
    PRIORITY_CHOICES.map((value) => h("option", { value }, value)),
  );
  const words = h("input", { type: "checkbox", id: `${prefix}-words`, name: "word_timestamps" });
  servedModels().then((list) => {
    const items = list.items || [];
    for (const m of items) model.append(h("option", { value: m.name }, m.default ? `${m.name} (default)` : m.name));
    const offer = () =>
      offerLanguages(language, items.find((m) => m.name === (model.value || list.default))?.languages);
    model.addEventListener("change", offer);
    offer();
  });
  const el = h(
    "fieldset",
    { class: "options" },
    h("legend", {}, "Options"),
    h("label", { for: language.id }, "Language"),
    language,
    h("label", { for: model.id }, "Model"),
    model,
    h("label", { for: priority.id }, "Priority"),
    priority,
    h("label", { class: "check" }, words, " word timestamps"),
  );
  const read = () => ({
    language: language.value || null,
    model: model.value || null,
    priority: priority.value,
    word_timestamps: words.checked,
  });
  return { el, read };
}

// A dialog that re-transcribes a recording with the options chosen; resolves with the new job, or null.
export function retranscribe(recordingId) {
  const fields = optionFields("again");
  return modal({
    title: "Transcribe again",
    intro: "A new job; earlier jobs and their transcripts stay.",
    fields: fields.el,
    submitText: "Start",
    submit: () => {
      const { language, model, priority, word_timestamps } = fields.read();
      const body = { word_timestamps, priority, ...(language && { language }), ...(model && { model }) };
      return api(`/v1/recordings/${recordingId}/transcriptions`, { method: "POST", body });
    },
  });
}
