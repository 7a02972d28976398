// Search over all the tenant's transcripts; a result opens the recording at that moment, playing.
import { api } from "./api.js";
import { h, marked, notice, replace } from "./dom.js";
import { clock } from "./jobs.js";

export function searchView(query) {
  const input = h("input", {
    type: "search",
    id: "search-input",
    name: "q",
    value: query,
    required: true,
    placeholder: 'words, "a phrase", -not, prefix*',
    "aria-label": "Search transcripts",
  });
  const results = h("ol", { class: "results", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "searchbar",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
      },
    },
    input,
    h("button", { type: "submit" }, "Search"),
  );
  if (query) {
    api(`/v1/search?${new URLSearchParams({ q: query, limit: 50 })}`).then(
      (page) => {
        replace(
          results,
          page.items.length
            ? page.items.map((hit) =>
                h(
                  "li",
                  { class: "hit" },
                  h(
                    "a",
                    { href: `#/recordings/${hit.recording_id}?t=${hit.start}`, "data-start": hit.start },
                    h("span", { class: "name" }, hit.filename),
                    h("span", { class: "time" }, clock(hit.start)),
                    h("span", { class: "snippet" }, marked(hit.snippet)),
                  ),
                ),
              )
            : h("li", { class: "muted empty" }, "Nothing found."),
        );
      },
      (err) => replace(results, notice(err.message)),
    );
  }
  setTimeout(() => input.focus());
  return {
    el: h("div", { class: "page" }, h("section", { class: "card" }, h("h1", {}, "Search"), form, results)),
    nav: "search",
  };
}
