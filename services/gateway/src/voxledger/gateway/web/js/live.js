// Live: the microphone through an AudioWorklet (16 kHz PCM) to WS /v1/live; interim text apart from final text,
// the elapsed time and a stop button. A dropped socket resumes the session; its end links to its recording.
import { auth } from "./api.js";
import { h, replace } from "./dom.js";
import { clock } from "./jobs.js";

const RATE = 16000;

// One session: its socket (a new one after a drop, resuming after the last final shown) and the audio not yet
// known to be received, kept by its first sample so that a resume sends exactly what the server lacks.
class LiveSession {
  constructor(view, language) {
    Object.assign(this, { view, language, id: null, ws: null, ready: false, ended: false, stopping: false });
    this.pending = []; // [first sample, Int16Array]
    this.sent = 0; // samples captured so far
    this.lastIndex = -1;
    this.started = Date.now();
  }

  async start() {
    this.media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
    this.context = new AudioContext({ sampleRate: RATE }); // the browser resamples the microphone to 16 kHz
    await this.context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
    const writer = new AudioWorkletNode(this.context, "pcm-writer");
    writer.port.onmessage = (e) => this.captured(new Int16Array(e.data));
    this.context.createMediaStreamSource(this.media).connect(writer);
    this.connect();
  }

  captured(frame) {
    if (this.stopping) return;
    this.pending.push([this.sent, frame]);
    this.sent += frame.length;
    this.flush();
  }

  flush() {
    while (this.ready && this.pending.length && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(this.pending.shift()[1]);
  }

  connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/live`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", api_key: auth.get() }));
      ws.send(
        JSON.stringify(
          this.id
            ? { type: "resume", session_id: this.id, after_index: this.lastIndex }
            : { type: "start", sample_rate: RATE, encoding: "pcm_s16le", language: this.language || null },
        ),
      );
    };
    ws.onmessage = (raw) => this.received(JSON.parse(raw.data));
    ws.onclose = () => {
      if (this.ended || this.closed) return;
      this.view.state("Reconnecting…");
      setTimeout(() => !this.ended && !this.closed && this.connect(), 500);
    };
  }

  received(m) {
    if (m.type === "ready") {
      this.id = m.session_id;
      this.ready = true;
      const have = Math.round((m.received_s || 0) * RATE); // after a resume: the audio the server already holds
      this.pending = this.pending.filter(([at, frame]) => at + frame.length > have);
      this.view.state("Listening…");
      this.flush();
      if (this.stopping) this.ws.send(JSON.stringify({ type: "stop" }));
    } else if (m.type === "interim" || m.type === "final") {
      if (m.type === "final") this.lastIndex = Math.max(this.lastIndex, m.index);
      this.view.segment(m);
    } else if (m.type === "ended") {
      this.ended = true;
      this.release();
      this.view.ended(m.recording_id);
    } else if (m.type === "error" && m.fatal) {
      this.view.state(`Error: ${m.message}`);
    }
  }

  stop() {
    this.stopping = true;
    this.flush();
    if (this.ready) this.ws.send(JSON.stringify({ type: "stop" })); // else sent once the socket is ready
  }

  release() {
    for (const track of this.media?.getTracks() || []) track.stop();
    this.context?.close();
  }

  close() {
    this.closed = true;
    this.ws?.close();
    this.release();
  }
}

export function liveView() {
  const finals = h("ol", { class: "finals", "aria-label": "Final text" });
  const interim = h("p", { class: "interim", "aria-live": "polite", "aria-label": "Interim text" });
  const elapsed = h("span", { class: "elapsed", "aria-label": "Elapsed" }, "0:00");
  const status = h("p", { class: "muted live-state", role: "status" }, "Ready to listen.");
  const startButton = h("button", { type: "button", id: "live-start" }, "Start");
  const stopButton = h("button", { type: "button", id: "live-stop", class: "danger", disabled: true }, "Stop");
  const language = h(
    "select",
    { id: "live-language", "aria-label": "Language" },
    h("option", { value: "en" }, "English"),
    h("option", { value: "" }, "detect"),
  );
  const shown = new Set();
  let session = null;
  let timer = null;

  const idle = () => {
    clearInterval(timer);
    startButton.disabled = false;
    stopButton.disabled = true;
  };
  const view = {
    state: (text) => {
      status.textContent = text;
    },
    segment: (m) => {
      if (m.type === "interim") {
        interim.textContent = m.text;
        return;
      }
      if (shown.has(m.index)) return; // a final sent again after a resume
      shown.add(m.index);
      finals.append(h("li", { "data-index": m.index }, h("span", { class: "time" }, clock(m.start)), ` ${m.text}`));
      interim.textContent = "";
    },
    ended: (recordingId) => {
      idle();
      replace(
        status,
        "Session ended. ",
        h("a", { href: `#/recordings/${recordingId}`, id: "live-recording" }, "Open its recording"),
      );
    },
  };

  startButton.addEventListener("click", async () => {
    startButton.disabled = true;
    finals.replaceChildren();
    shown.clear();
    session = new LiveSession(view, language.value);
    try {
      await session.start();
    } catch (err) {
      view.state(`The microphone is not available: ${err.message}`);
      session.close();
      return idle();
    }
    stopButton.disabled = false;
    timer = setInterval(() => {
      elapsed.textContent = clock((Date.now() - session.started) / 1000);
    }, 250);
  });
  stopButton.addEventListener("click", () => {
    stopButton.disabled = true;
    view.state("Finishing…");
    session?.stop();
  });

  const el = h(
    "div",
    { class: "page" },
    h(
      "section",
      { class: "card live" },
      h("h1", {}, "Live"),
      h("div", { class: "live-controls" }, language, startButton, stopButton, elapsed),
      status,
      h("h2", {}, "Text"),
      finals,
      interim,
    ),
  );
  return {
    el,
    nav: "live",
    leave: () => {
      session?.close();
      clearInterval(timer);
    },
  };
}
