"""A small OpenAI-compatible chat-completions server, playing the external LLM API's part in tests.

Everything inside voxledger stays real; only the third-party model is stood in for.
It answers by the insight kind named in the system prompt, after a fixed latency,
and can be switched to return invalid output or server errors.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "Summarize": {
        "text": "The team reviews the budget.",
        "points": [{"text": "The team reviews the budget.", "start": 0.0, "end": 4.0, "score": 1.0}],
        "keywords": ["budget", "team"],
    },
    "action items": {
        "items": [
            {
                "text": "Share your notes with the team",
                "kind": "request",
                "assignee": "team",
                "due": "before Friday afternoon",
                "start": 4.0,
                "end": 8.8,
            }
        ]
    },
    "Rewrite": {
        "text": "Good morning everyone.",
        "paragraphs": [{"start": 0.0, "end": 8.8, "text": "Good morning everyone.", "source_segments": [0]}],
        "fillers_removed": 0,
        "repeats_removed": 0,
    },
}

# Well-formed answers out of bounds, one bound each: a time past the recording, an endless text, a
# reference to a segment that does not exist.
HOSTILE = {
    "Summarize": {**ANSWERS["Summarize"], "points": [{"text": "x", "start": 0.0, "end": 1e9, "score": 1.0}]},
    "action items": {"items": [{**ANSWERS["action items"]["items"][0], "text": "share " * 100_000}]},
    "Rewrite": {
        **ANSWERS["Rewrite"],
        "paragraphs": [{**ANSWERS["Rewrite"]["paragraphs"][0], "source_segments": [9999]}],
    },
}


class FakeLlm:
    def __init__(self, latency_s: float = 0.0):
        self.latency_s = latency_s
        self.mode = "ok"  # ok | invalid | hostile | error
        self.calls: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                started = time.monotonic()
                time.sleep(server.latency_s)
                server.calls.append({"path": self.path, "request": request, "started": started})
                if server.mode == "error":
                    self._reply(503, {"error": "overloaded"})
                    return
                system = request["messages"][0]["content"]
                answers = HOSTILE if server.mode == "hostile" else ANSWERS
                answer = next(body for key, body in answers.items() if key in system)
                content = "this is not json" if server.mode == "invalid" else json.dumps(answer)
                self._reply(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeLlm":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
