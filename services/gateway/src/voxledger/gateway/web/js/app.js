// The app's shell: sign-in, the fragment router (#/..., so paths and keys never reach a server log), the stream.
import { api, auth } from "./api.js";
import { $, h, notice, replace } from "./dom.js";
import { liveView } from "./live.js";
import { recordingView } from "./recording.js";
import { recordingsView } from "./recordings.js";
import { searchView } from "./search.js";
import { stream } from "./stream.js";

const view = $("#view");
let leave = null; // the current view's clean-up

// `voxledger up` prints http://127.0.0.1:8000/#key=<dev key>: take the key, then drop it from the address bar.
function keyFromFragment() {
  const match = location.hash.match(/^#key=([^&]+)/);
  if (!match) return;
  auth.set(decodeURIComponent(match[1]));
  history.replaceState(null, "", `${location.pathname}#/`);
}

function signIn(message) {
  const input = h("input", {
    type: "password",
    id: "api-key",
    autocomplete: "off",
    required: true,
    "aria-label": "API key",
  });
  const form = h(
    "form",
    {
      class: "card sign-in",
      onsubmit: async (e) => {
        e.preventDefault();
        auth.set(input.value.trim());
        try {
          await api("/v1/recordings?limit=1");
          start();
        } catch (err) {
          auth.clear();
          replace(view, signIn(err.status === 401 ? "That key is not valid." : err.message));
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste an API key. It stays in this tab's session storage."),
    message && notice(message),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("button", { type: "submit" }, "Sign in"),
  );
  setTimeout(() => input.focus());
  $("#sign-out").hidden = true;
  return form;
}

const ROUTES = [
  [/^#\/?(?:\?tag=(.*))?$/, (m) => recordingsView(m[1] ? decodeURIComponent(m[1]) : "")],
  [/^#\/recordings\/([0-9a-f-]{36})(?:\?t=([0-9.]+))?$/, (m) => recordingView(m[1], m[2] ? Number(m[2]) : null)],
  [/^#\/search(?:\?q=(.*))?$/, (m) => searchView(m[1] ? decodeURIComponent(m[1]) : "")],
  [/^#\/live$/, () => liveView()],
];

function route() {
  if (!auth.get()) return;
  leave?.();
  leave = null;
  const hash = location.hash || "#/";
  for (const [pattern, render] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    const page = render(match);
    leave = page.leave;
    replace(view, page.el);
    for (const a of document.querySelectorAll("[data-nav]"))
      a.toggleAttribute("aria-current", a.dataset.nav === page.nav);
    view.focus({ preventScroll: true });
    return;
  }
  replace(view, notice("No such page."), h("a", { href: "#/" }, "Back to recordings"));
}

function start() {
  $("#sign-out").hidden = false;
  if (stream.state === "offline") stream.run();
  route();
}

stream.onState((state) => {
  const el = $("#conn");
  el.dataset.state = state;
  el.textContent = state;
});
window.addEventListener("hashchange", route);
window.addEventListener("vl:unauthorized", () => {
  auth.clear();
  stream.stop();
  replace(view, signIn("The key was refused (revoked or expired?). Sign in again."));
});
$("#sign-out").addEventListener("click", () => {
  auth.clear();
  stream.stop();
  leave?.();
  replace(view, signIn());
});

keyFromFragment();
auth.get() ? start() : replace(view, signIn());
