// The app's module graph: a view (a module exporting `...View`) imports shared pieces, never another view; only
// the router (app.js) imports views.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const JS = new URL("../../services/gateway/src/voxledger/gateway/web/js/", import.meta.url);
const sources = Object.fromEntries(
  readdirSync(JS)
    .filter((name) => name.endsWith(".js"))
    .map((name) => [name, readFileSync(new URL(name, JS), "utf8")]),
);
const views = new Set(Object.keys(sources).filter((name) => /export function \w+View\(/.test(sources[name])));
const imports = (source) => [...source.matchAll(/from "\.\/([\w-]+\.js)"/g)].map((m) => m[1]);

test("the app has its views", () => {
  assert.deepEqual([...views].sort(), ["live.js", "recording.js", "recordings.js", "search.js"]);
});

test("no view imports another view", () => {
  for (const name of views) {
    assert.deepEqual(
      imports(sources[name]).filter((imported) => views.has(imported)),
      [],
      name,
    );
  }
});
