// The event stream's `ready` frame: a plain one resumes where the stream left off; one with `reset` (the
// Last-Event-ID was too far back, so the server restarted at the head) tells the views to read their state anew.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventStream } from "../../services/gateway/src/voxledger/gateway/web/js/stream.js";

function opened() {
  const stream = new EventStream();
  const seen = { events: [], resets: [] };
  stream.on(
    (event) => seen.events.push(event.type),
    (reason) => seen.resets.push([reason, stream.state, stream.lastId]),
  );
  return { stream, seen };
}

test("a plain ready resumes: the stream is live and no view refetches", async () => {
  const { stream, seen } = opened();
  stream.dispatch('event: ready\nid: 41\ndata: {"seq":41}');
  stream.dispatch('id: 42\ndata: {"type":"TranscriptionStarted","seq":42}');
  assert.equal(await stream.ready(), "42");
  assert.deepEqual(seen, { events: ["TranscriptionStarted"], resets: [] });
});

test("a ready with reset: resume_too_old makes every view refetch, at the new head, once live", async () => {
  const { stream, seen } = opened();
  stream.dispatch('id: 7\ndata: {"type":"RecordingUploaded","seq":7}');
  stream.dispatch('event: ready\nid: 90000\ndata: {"seq":90000,"reset":"resume_too_old"}');
  assert.deepEqual(seen.resets, [["resume_too_old", "live", "90000"]]);
  assert.equal(await stream.ready(), "90000", "a view's refetch reads with the new head as min_seq");
  assert.deepEqual(seen.events, ["RecordingUploaded"], "the ready frame is no event");
});

test("a view that left is not asked to refetch", () => {
  const stream = new EventStream();
  const resets = [];
  const off = stream.on(
    () => {},
    (reason) => resets.push(reason),
  );
  off();
  stream.dispatch('event: ready\nid: 5\ndata: {"seq":5,"reset":"resume_too_old"}');
  assert.deepEqual(resets, []);
});
