// Live: the microphone through an AudioWorklet (16 kHz PCM) to WS /v1/live; interim text apart from final text,
// the elapsed time and a stop button. A dropped socket resumes the session; its end links to its recording.
import { auth } from "./api.js";
import { h, replace } from "./dom.js";
import { clock } from "./jobs.js";

const RATE = 16000;

export function liveView() {
  const finals = h("ol", { class: "finals", "aria-label": "Final text" });
  const interim = h("p", { class: "interim", "aria-live": "polite", "aria-label": "Interim text" });
  const elapsed = h("span", { class: "elapsed", "aria-label": "Elapsed" }, "0:00");
  const state = h("p", { class: "muted live-state", role: "status" }, "Ready to listen.");
  const startButton = h("button", { type: "button", id: "live-start" }, "Start");
  const stopButton = h("button", { type: "button", id: "live-stop", class: "danger", disabled: true }, "Stop");
  const language = h("select", { id: "live-language", "aria-label": "Language" },
    h("option", { value: "en" }, "English"), h("option", { value: "" }, "detect"));
  const shown = new Set();
  let session = null; // {id, ws, context, media, pending: [[startSample, Int16Array]], sent, stopping, timer}

  const send = (s) => {
    while (s.ready && s.pending.length && s.ws.readyState === WebSocket.OPEN) s.ws.send(s.pending.shift()[1]);
  };
  const onMessage = (s, raw) => {
    const m = JSON.parse(raw.data);
    if (m.type === "ready") {
      s.id = m.session_id;
      s.ready = true;
      const have = Math.round((m.received_s || 0) * RATE); // after a resume: audio the server already holds
      s.pending = s.pending.filter(([at, frame]) => at + frame.length > have);
      state.textContent = "Listening…";
      send(s);
    } else if (m.type === "interim") {
      interim.textContent = m.text;
    } else if (m.type === "final" && !shown.has(m.index)) {
      shown.add(m.index);
      s.lastIndex = Math.max(s.lastIndex ?? -1, m.index);
      finals.append(h("li", { "data-index": m.index }, h("span", { class: "time" }, clock(m.start)), ` ${m.text}`));
      interim.textContent = "";
    } else if (m.type === "ended") {
      s.ended = true;
      finish(s);
      replace(state, "Session ended. ", h("a", { href: `#/recordings/${m.recording_id}`, id: "live-recording" }, "Open its recording"));
    } else if (m.type === "error" && m.fatal) {
      state.textContent = `Error: ${m.message}`;
    }
  };
  const connect = (s) => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/live`);
    ws.binaryType = "arraybuffer";
    s.ws = ws;
    s.ready = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", api_key: auth.get() }));
      ws.send(JSON.stringify(s.id ? { type: "resume", session_id: s.id, after_index: s.lastIndex ?? -1 }
        : { type: "start", sample_rate: RATE, encoding: "pcm_s16le", language: language.value || null }));
      if (s.stopping) ws.send(JSON.stringify({ type: "stop" }));
    };
    ws.onmessage = (raw) => onMessage(s, raw);
    ws.onclose = () => {
      if (s.ended || session !== s) return;
      state.textContent = "Reconnecting…";
      setTimeout(() => session === s && !s.ended && connect(s), 500);
    };
  };
  const finish = (s) => {
    clearInterval(s.timer);
    s.media?.getTracks().forEach((t) => t.stop());
    s.context?.close();
    startButton.disabled = false;
    stopButton.disabled = true;
  };

  startButton.addEventListener("click", async () => {
    startButton.disabled = true;
    finals.replaceChildren();
    shown.clear();
    const s = { pending: [], sent: 0, started: Date.now() };
    session = s;
    try {
      s.media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
      s.context = new AudioContext({ sampleRate: RATE });
      await s.context.audioWorklet.addModule("/app/js/pcm-worklet.js");
      const writer = new AudioWorkletNode(s.context, "pcm-writer");
      writer.port.onmessage = (e) => {
        const frame = new Int16Array(e.data);
        if (s.stopping) return;
        s.pending.push([s.sent, frame]);
        s.sent += frame.length;
        send(s);
      };
      s.context.createMediaStreamSource(s.media).connect(writer);
    } catch (err) {
      state.textContent = `The microphone is not available: ${err.message}`;
      return finish(s);
    }
    connect(s);
    stopButton.disabled = false;
    s.timer = setInterval(() => (elapsed.textContent = clock((Date.now() - s.started) / 1000)), 250);
  });
  stopButton.addEventListener("click", () => {
    if (!session) return;
    session.stopping = true;
    stopButton.disabled = true;
    state.textContent = "Finishing…";
    send(session);
    if (session.ws?.readyState === WebSocket.OPEN) session.ws.send(JSON.stringify({ type: "stop" }));
  });

  const el = h("div", { class: "page" }, h("section", { class: "card live" }, h("h1", {}, "Live"),
    h("div", { class: "live-controls" }, language, startButton, stopButton, elapsed), state,
    h("h2", {}, "Text"), finals, interim));
  return { el, nav: "live", leave: () => {
    if (!session) return;
    const s = session;
    session = null;
    s.ws?.close();
    finish(s);
  } };
}
