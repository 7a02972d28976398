// A recording's audio, streamed: the element's src is a short-lived link (POST .../audio-link), since an <audio>
// cannot send the key and the key never goes into a URL. The browser then fetches byte ranges as it plays and
// seeks, instead of holding the whole file. A link that expired makes the element fail: it asks for a fresh
// one and goes on where it was; a second failure in a row is shown, not retried.
import { api } from "./api.js";
import { h } from "./dom.js";

export class Player {
  constructor(recordingId, onFailed) {
    this.id = recordingId;
    this.onFailed = onFailed;
    this.el = h("audio", { controls: true, preload: "metadata", id: "player" });
    this.position = 0; // where it was, kept apart from the element: a new src starts it at 0
    this.playing = false;
    this.renewing = false;
    this.closed = false;
    this.el.addEventListener("timeupdate", () => {
      if (!this.renewing) this.position = this.el.currentTime;
    });
    this.el.addEventListener("play", () => {
      this.playing = true;
    });
    this.el.addEventListener("pause", () => {
      if (!this.renewing) this.playing = false;
    });
    this.el.addEventListener("error", () => this.renew());
  }

  async load() {
    const link = await api(`/v1/recordings/${this.id}/audio-link`, { method: "POST" });
    if (!this.closed) this.el.src = link.url;
  }

  async renew() {
    if (this.closed) return;
    if (this.renewing) return this.onFailed(new Error("the audio cannot be played"));
    this.renewing = true;
    const [at, playing] = [this.position, this.playing];
    this.el.addEventListener(
      "loadedmetadata",
      () => {
        this.el.currentTime = at;
        if (playing) this.el.play().catch(() => {});
        this.renewing = false;
      },
      { once: true },
    );
    await this.load().catch((err) => this.onFailed(err));
  }

  close() {
    this.closed = true;
    this.el.pause();
    this.el.removeAttribute("src");
    this.el.load(); // ends the element's open range request
  }
}
