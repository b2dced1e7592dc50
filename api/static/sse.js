// A server-sent events client over fetch(): EventSource cannot send an Authorization
// header, this can. It parses text/event-stream as the HTML standard says, reconnects on
// its own (the server's `retry:`, then backing off to 30 s) and gives up on a stream that
// has been silent for three heartbeats (a dead connection behind a proxy never errors).
"use strict";

const MAX_BACKOFF_MS = 30000;

export class EventStream {
  /**
   * @param {string} url
   * @param {object} hooks  headers(): extra request headers; onEvent(kind, data, id);
   *   onStatus(status, detail) with status "connecting" | "live" | "down" | "key".
   */
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    this.retryMs = 3000;
    this.silentMs = 45000;  // replaced by 3 x the heartbeat the server announces
    this.failures = 0;
    this.lastId = null;
    this.running = false;
    this.generation = 0;  // a stop and a start make a new loop; the old one ends
    this.controller = null;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this._loop(this.generation);
  }

  stop() {
    this.running = false;
    if (this.controller) this.controller.abort();
  }

  async _loop(generation) {
    const mine = () => this.running && this.generation === generation;
    while (mine()) {
      this.hooks.onStatus("connecting", "");
      let detail = "stream ended";
      try {
        await this._connect();
      } catch (err) {
        detail = err.name === "AbortError" ? "no data: reconnecting" : err.message;
      }
      if (!mine()) break;
      this.failures += 1;
      const wait = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(this.failures - 1, 4));
      this.hooks.onStatus("down", detail + ", retry in " + Math.round(wait / 1000) + " s");
      await new Promise((resolve) => setTimeout(resolve, wait * (0.8 + 0.4 * Math.random())));
    }
  }

  async _connect() {
    this.controller = new AbortController();
    const headers = { Accept: "text/event-stream", ...this.hooks.headers() };
    if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
    const res = await fetch(this.url, { headers, cache: "no-store", signal: this.controller.signal });
    if (res.status === 401) {
      this.running = false;
      this.hooks.onStatus("key", "API key needed");
      return;
    }
    if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
    await this._read(res.body.getReader());
  }

  async _read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    let msg = newMessage();
    let watchdog = this._watch();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(watchdog);
        watchdog = this._watch();
        buffer += decoder.decode(value, { stream: true });
        const lines = buffer.split(/\r\n|\r|\n/);
        buffer = lines.pop();  // an unfinished line waits for the next chunk
        for (const line of lines) msg = this._line(line, msg);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  _watch() {
    return setTimeout(() => this.controller.abort(), this.silentMs);
  }

  // One line of the stream; returns the message being built.
  _line(line, msg) {
    if (line === "") {
      if (msg.data.length) this._dispatch(msg);
      return newMessage();
    }
    if (line.startsWith(":")) return msg;  // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") msg.data.push(value);
    else if (field === "event") msg.event = value;
    else if (field === "id") this.lastId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return msg;
  }

  _dispatch(msg) {
    let data;
    try {
      data = JSON.parse(msg.data.join("\n"));
    } catch (err) {
      return;  // not ours: every message of /api/v1/events is one JSON object
    }
    if (msg.event === "hello") {
      this.failures = 0;
      if (data.heartbeat_s) this.silentMs = 3000 * data.heartbeat_s;
      this.hooks.onStatus("live", "");
    }
    this.hooks.onEvent(msg.event || "message", data, this.lastId);
  }
}

function newMessage() {
  return { event: "", data: [] };
}
