// A few lines instead of a framework: elements from tags, attributes and children (text is always text).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null && child !== false) el.append(child);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function replace(root, ...children) {
  root.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
}

export function notice(message, kind = "error") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
}

// A search snippet's <mark>ed words, rendered as elements: nothing of the snippet is ever parsed as HTML.
export function marked(snippet) {
  return snippet
    .split(/(<mark>.*?<\/mark>)/g)
    .map((part) => (part.startsWith("<mark>") ? h("mark", {}, part.slice(6, -7)) : part));
}

// A modal form: `submit()` resolves with what the dialog resolves with, or throws to show its message and stay
// open; Cancel or Escape resolve with null.
export function modal({ title, intro, fields, submitText, submit }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "card", "aria-label": title });
    const close = (result) => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    const error = h("p", { class: "notice error", hidden: true, role: "alert" });
    const onsubmit = async (e) => {
      e.preventDefault();
      try {
        close(await submit());
      } catch (err) {
        error.hidden = false;
        error.textContent = err.message;
      }
    };
    dialog.append(
      h(
        "form",
        { method: "dialog", onsubmit },
        h("h2", {}, title),
        intro && h("p", { class: "muted" }, intro),
        fields,
        error,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "submit" }, submitText),
          h("button", { type: "button", class: "secondary", onclick: () => close(null) }, "Cancel"),
        ),
      ),
    );
    document.body.append(dialog);
    dialog.addEventListener("cancel", () => close(null));
    dialog.showModal();
  });
}
