// The app's fold of a job's events (jobs.js, applyEvent) against the projector's row after the same events, as the
// API reports it: a job shown from the stream must read as it does after a reload. The cases and the rows come
// from the projector and the gateway themselves (tests/test_web_job_fold.py keeps the fixture current).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { applyEvent, describe, fromApi } from "../../services/gateway/src/voxledger/gateway/web/js/jobs.js";

const CASES = JSON.parse(readFileSync(new URL("./fixtures/job_fold.json", import.meta.url), "utf8"));
const TIMES = new Set(["created_at", "started_at", "finished_at"]);

// The same state however it was spelled: a missing field as null, a time as its instant.
function normalized(job) {
  return Object.fromEntries(
    Object.keys(fromApi({})).map((key) => {
      const value = job[key] ?? null;
      return [key, value !== null && TIMES.has(key) ? Date.parse(value) : value];
    }),
  );
}

for (const [name, { events, job }] of Object.entries(CASES)) {
  test(`the fold reads as the projector's row: ${name}`, () => {
    const folded = events.reduce(applyEvent, undefined);
    assert.deepEqual(normalized(folded), normalized(fromApi(job)));
    assert.equal(describe(folded), describe(fromApi(job)));
  });
}

test("an event seen again after the API showed it never takes the job back", () => {
  const { events, job } = CASES.completed;
  const loaded = fromApi(job);
  for (const event of events) assert.deepEqual(normalized(applyEvent(loaded, event)), normalized(loaded), event.type);
  const running = fromApi(CASES["running: loading the model, then transcribing"].job);
  const requested = applyEvent(running, events[0]);
  assert.deepEqual([requested.status, requested.stage], ["running", "transcribing"]);
});

test("a failure shows its public reason, never the worker's message", () => {
  for (const name of ["failed", "an attempt failed: queued again, with its reason"]) {
    const folded = CASES[name].events.reduce(applyEvent, undefined);
    assert.equal(folded.error.message, CASES[name].job.error.message);
    assert.doesNotMatch(folded.error.message, /\//);
  }
});
