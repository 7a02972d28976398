// The insights panel names the engine that made each insight, as the events record it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineLabel } from "../../services/gateway/src/voxledger/gateway/web/js/insights.js";

test("the built-in text engines are labelled extractive, analytics measured, an LLM by its model", () => {
  assert.equal(engineLabel("builtin", "summary"), "built-in, extractive");
  assert.equal(engineLabel("builtin", "analytics"), "built-in, measured");
  assert.equal(engineLabel("llm:qwen2.5-7b-instruct", "summary"), "LLM: qwen2.5-7b-instruct");
  assert.equal(engineLabel(null, "summary"), "");
});
