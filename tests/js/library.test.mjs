// A recording as a library item: the export's file name from Content-Disposition, and tags as typed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { attachmentName, parseTags } from "../../services/gateway/src/voxledger/gateway/web/js/library.js";

test("an export is saved under the name the gateway gives it, filename* first", () => {
  const header = "attachment; filename=\"Reunion equipe.srt\"; filename*=UTF-8''R%C3%A9union%20%C3%A9quipe.srt";
  assert.equal(attachmentName(header, "x.srt"), "Réunion équipe.srt");
  assert.equal(attachmentName('attachment; filename="Weekly sync.txt"', "x.txt"), "Weekly sync.txt");
  assert.equal(attachmentName("attachment; filename*=UTF-8''%E0%A4%A.txt; filename=\"a.txt\"", "x.txt"), "a.txt");
  assert.equal(attachmentName(null, "Weekly sync.json"), "Weekly sync.json");
});

test("tags are typed comma-separated, trimmed, empty ones dropped", () => {
  assert.deepEqual(parseTags(" sales, q3 ,, Sales "), ["sales", "q3", "Sales"]);
  assert.deepEqual(parseTags(""), []);
});
