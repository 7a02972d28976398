// The tenant's one event stream (GET /v1/events), over fetch so that the key travels in a header. A lost
// connection shows "reconnecting" and resumes after the last event id: no event is missed or repeated. When the
// id is too far back, the server restarts the stream at the head (`ready` with `reset: "resume_too_old"`): the
// events between were never sent, so every view that folds them reads its state anew.
import { auth } from "./api.js";

const delay = (ms) => new Promise((done) => setTimeout(done, ms));

export class EventStream {
  constructor() {
    this.lastId = null;
    this.state = "offline";
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.resetListeners = new Set();
    this.readyWaiters = [];
    this.controller = null;
  }

  // `listener` gets each event; `onReset`, once the stream is live again after skipping events (a resume too far
  // back), refetches what the view shows. The returned function unsubscribes both.
  on(listener, onReset = null) {
    this.listeners.add(listener);
    if (onReset) this.resetListeners.add(onReset);
    return () => {
      this.listeners.delete(listener);
      this.resetListeners.delete(onReset);
    };
  }

  onState(listener) {
    this.stateListeners.add(listener);
    listener(this.state);
  }

  // Resolves with the sequence the stream has reached once it is live: reads made with it as min_seq
  // include everything before the events that follow.
  ready() {
    return this.state === "live" ? Promise.resolve(this.lastId) : new Promise((r) => this.readyWaiters.push(r));
  }

  setState(state) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
    if (state === "live") for (const waiter of this.readyWaiters.splice(0)) waiter(this.lastId);
  }

  async run() {
    this.controller = new AbortController();
    let backoff = 250;
    while (!this.controller.signal.aborted) {
      try {
        await this.connect();
        backoff = 250;
      } catch (err) {
        if (this.controller.signal.aborted) return;
        if (err.status === 401) return this.setState("offline");
      }
      this.setState("reconnecting");
      await delay(backoff);
      backoff = Math.min(backoff * 2, 4000);
    }
  }

  stop() {
    this.controller?.abort();
    this.lastId = null; // the next sign-in may be another tenant's: its stream starts afresh
    this.setState("offline");
  }

  async connect() {
    const headers = { Authorization: `Bearer ${auth.get()}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    const response = await fetch("/v1/events", { headers, signal: this.controller.signal, cache: "no-store" });
    if (!response.ok) throw Object.assign(new Error("stream refused"), { status: response.status });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  dispatch(block) {
    const frame = { event: "message", data: "", id: null };
    for (const line of block.split("\n")) {
      const at = line.indexOf(":");
      if (at === 0) continue; // a comment: keep-alive
      const [field, value] = at < 0 ? [line, ""] : [line.slice(0, at), line.slice(at + 1).replace(/^ /, "")];
      if (field === "data") frame.data += (frame.data ? "\n" : "") + value;
      else if (field === "event" || field === "id") frame[field] = value;
    }
    if (!frame.data) return;
    if (frame.id) this.lastId = frame.id;
    const message = JSON.parse(frame.data);
    if (frame.event === "ready") return this.resumed(message);

    for (const listener of this.listeners) listener(message);
  }

  resumed(ready) {
    this.setState("live");
    if (ready.reset) for (const listener of this.resetListeners) listener(ready.reset);
  }
}

export const stream = new EventStream();
