// Insights of a completed job: summary, action items (click to seek), refined transcript, analytics as pictures.
// Each kind shows its own state (running, ready, failed with the reason) and the engine that made it, and can be
// run again.
import { api } from "./api.js";
import { barsChart, paceChart, speechChart } from "./charts.js";
import { h, replace } from "./dom.js";
import { clock } from "./jobs.js";

const KINDS = [
  ["summary", "Summary"],
  ["action_items", "Action items"],
  ["refinement", "Refined transcript"],
  ["analytics", "Analytics"],
];

// Which engine made an insight, as the events record it: "builtin" or "llm:<model>". The built-in text engines
// only pick and order what was said; analytics are measured either way.
export function engineLabel(engine, kind) {
  if (!engine) return "";
  if (engine.startsWith("llm:")) return `LLM: ${engine.slice(4)}`;
  return kind === "analytics" ? "built-in, measured" : "built-in, extractive";
}

const LLM_HINT =
  "Made by voxledger's built-in engines, which pick and order what was said; they write nothing new. " +
  "An admin can connect an OpenAI-compatible model with VOXLEDGER_LLM_URL and VOXLEDGER_LLM_MODEL " +
  "(see the configuration page of the documentation).";

function body(kind, payload, seek) {
  switch (kind) {
    case "summary":
      return [
        h("p", {}, payload.text),
        payload.keywords?.length > 0 && h("p", { class: "muted" }, `Keywords: ${payload.keywords.join(", ")}`),
      ];
    case "action_items":
      return payload.items.length
        ? h(
            "ul",
            { class: "items" },
            payload.items.map((item) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "time", "data-start": item.start, onclick: () => seek(item.start) },
                  clock(item.start),
                ),
                ` ${item.text}`,
                item.assignee && h("span", { class: "muted" }, ` (${item.assignee})`),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No action items.");
    case "refinement":
      return payload.paragraphs.map((p) => h("p", { class: "para", onclick: () => seek(p.start) }, p.text));
    case "analytics":
      return h(
        "div",
        { class: "charts" },
        payload.pace?.length > 0 && paceChart(payload.pace),
        speechChart(payload.speech_s, payload.silence_s),
        Object.keys(payload.fillers || {}).length
          ? barsChart(
              "Fillers",
              Object.entries(payload.fillers)
                .sort((a, b) => b[1] - a[1])
                .slice(0, 8),
              "",
            )
          : h("p", { class: "muted" }, "No filler words."),
        payload.speakers?.length > 0 &&
          barsChart(
            "Talk time per speaker",
            payload.speakers.map((s) => [s.speaker, s.talk_time_s]),
            " s",
          ),
      );
    default:
      return null;
  }
}

export function insightsPanel(recordingId, seek) {
  const el = h("section", { class: "card insights", "aria-label": "Insights" }, h("h2", {}, "Insights"));
  const grid = h("div", { class: "kinds" });
  el.append(grid);
  let jobId = null;
  let timer = null;

  const rerun = async (kind) => {
    await api(`/v1/recordings/${recordingId}/insights`, { method: "POST", body: { kinds: [kind], job_id: jobId } });
  };
  const render = (data) => {
    const builtin = Object.values(data.insights).some((i) => i.engine === "builtin");
    replace(
      grid,
      KINDS.map(([kind, title]) => {
        const insight = data.insights[kind] || { status: "pending" };
        return h(
          "article",
          { class: "kind", "data-kind": kind, "data-status": insight.status },
          h(
            "header",
            {},
            h("h3", {}, title),
            h("span", { class: "badge" }, insight.status),
            insight.engine &&
              h("span", { class: "engine muted", "data-engine": insight.engine }, engineLabel(insight.engine, kind)),
            h(
              "button",
              {
                type: "button",
                class: "link",
                "data-action": "rerun",
                onclick: () => rerun(kind).catch((e) => alert(e.message)),
              },
              "Re-run",
            ),
          ),
          insight.status === "failed" &&
            h("p", { class: "notice error" }, insight.error?.message || insight.error?.code),
          insight.status === "ready" && insight.payload && body(kind, insight.payload, seek),
        );
      }),
      builtin && h("p", { class: "muted engine-hint" }, LLM_HINT),
    );
  };
  const load = async (job, seq) => {
    jobId = job;
    try {
      render(await api(`/v1/recordings/${recordingId}/insights?job_id=${job}&min_seq=${seq}`));
    } catch (err) {
      replace(grid, h("p", { class: "muted" }, err.message));
    }
  };
  return {
    el,
    load,
    waiting: (state = "waiting") =>
      replace(
        grid,
        h(
          "p",
          { class: "muted" },
          state === "running" ? "Insights are being made…" : "Insights follow a completed transcript.",
        ),
      ),
    // Insight events of the job shown: read the panel again, once for a burst of them.
    changed: (job, seq) => {
      clearTimeout(timer);
      timer = setTimeout(() => load(job, seq), 150);
    },
  };
}
