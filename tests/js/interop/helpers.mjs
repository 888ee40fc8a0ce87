// Shared helpers for the interop suite.
//
// Environment:
//   SIO_URL         base URL of the server under test, e.g. http://127.0.0.1:3000 (required)
//   SIO_TRANSPORTS  comma-separated client transports: "websocket", "polling" or
//                   "polling,websocket" (start on polling, then upgrade). Default "websocket".
//   SIO_PARSER      "json" (default) or "msgpack": the clients use socket.io-msgpack-parser,
//                   and the server under test must be configured with the same parser.

import { io, Manager } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

export const SIO_URL = (process.env.SIO_URL ?? "").replace(/\/+$/, "");
if (!SIO_URL) {
  throw new Error("SIO_URL is not set (e.g. SIO_URL=http://127.0.0.1:3000)");
}

export const TRANSPORTS = (process.env.SIO_TRANSPORTS ?? "websocket")
  .split(",")
  .map((t) => t.trim())
  .filter(Boolean);
for (const t of TRANSPORTS) {
  if (t !== "websocket" && t !== "polling") {
    throw new Error(`unsupported transport in SIO_TRANSPORTS: ${t}`);
  }
}

/** "json" | "msgpack" */
export const PARSER = process.env.SIO_PARSER || "json";
if (PARSER !== "json" && PARSER !== "msgpack") {
  throw new Error(`unsupported SIO_PARSER: ${PARSER}`);
}

/** "websocket" | "polling" | "upgrade" */
export const MODE =
  TRANSPORTS.length === 1 ? TRANSPORTS[0] : TRANSPORTS[0] === "polling" ? "upgrade" : "websocket";

export const DEFAULT_TIMEOUT = 5000;

const sockets = new Set();
const managers = new Set();

function baseOptions() {
  const opts = { transports: TRANSPORTS, reconnection: false, timeout: DEFAULT_TIMEOUT };
  if (PARSER === "msgpack") opts.parser = msgpackParser;
  return opts;
}

/** Creates a client for `nsp` (tracked, closed by closeAll). Not awaited. */
export function client(nsp = "/", opts = {}) {
  const socket = io(SIO_URL + nsp, { ...baseOptions(), forceNew: true, ...opts });
  sockets.add(socket);
  return socket;
}

/** Creates a Manager (one engine.io connection) for multiplexing (tracked). */
export function manager(opts = {}) {
  const m = new Manager(SIO_URL, { ...baseOptions(), ...opts });
  managers.add(m);
  return m;
}

/** Tracks a socket created from a Manager so that closeAll closes it. */
export function track(socket) {
  sockets.add(socket);
  return socket;
}

/** Resolves when the socket is connected; rejects on connect_error or timeout. */
export function connected(socket, timeoutMs = DEFAULT_TIMEOUT) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "connect" on ${socket.nsp}`));
    }, timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error on ${socket.nsp}: ${err?.message}`, { cause: err }));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** client() + connected(). */
export function connect(nsp = "/", opts = {}) {
  return connected(client(nsp, opts));
}

/** Connects `n` clients to `nsp` concurrently. */
export function connectMany(n, nsp = "/", opts = {}, timeoutMs = DEFAULT_TIMEOUT) {
  return Promise.all(Array.from({ length: n }, () => connected(client(nsp, opts), timeoutMs)));
}

/**
 * Resolves with the argument array of the next `event` emitted by `emitter`
 * (a socket, a Manager or an engine); rejects after `timeoutMs`.
 */
export function once(emitter, event, timeoutMs = DEFAULT_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const handler = (...args) => {
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    };
    emitter.on(event, handler);
  });
}

/**
 * Starts recording every `event` on `emitter`; returns { events, next(n) }:
 * `events` is the live list of argument arrays, `next(n)` resolves once
 * `n` events in total have been recorded (rejects after timeoutMs).
 */
export function record(emitter, event) {
  const events = [];
  const waiters = [];
  emitter.on(event, (...args) => {
    events.push(args);
    for (const w of [...waiters]) {
      if (events.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(events.slice(0, w.n));
      }
    }
  });
  return {
    events,
    next(n = events.length + 1, timeoutMs = DEFAULT_TIMEOUT) {
      if (events.length >= n) return Promise.resolve(events.slice(0, n));
      return new Promise((resolve, reject) => {
        const w = { n, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(`timed out after ${timeoutMs} ms: ${events.length}/${n} "${event}" events`),
          );
        }, timeoutMs);
        waiters.push(w);
      });
    },
  };
}

/** Emits `event` with `args` and resolves with ALL the ack arguments (bounded). */
export function request(socket, event, ...args) {
  return requestWithTimeout(DEFAULT_TIMEOUT, socket, event, ...args);
}

export function requestWithTimeout(timeoutMs, socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, ...args, (err, ...reply) => {
      if (err) reject(new Error(`no ack for "${event}" within ${timeoutMs} ms`, { cause: err }));
      else resolve(reply);
    });
  });
}

/** Emits `event` and resolves with the FIRST ack argument (bounded). */
export async function call(socket, event, ...args) {
  const reply = await request(socket, event, ...args);
  return reply[0];
}

/**
 * Polls `fn` until it returns a truthy value (for server-side state that no
 * event announces, e.g. the connection count after a disconnect). Bounded.
 */
export async function eventually(fn, { timeoutMs = DEFAULT_TIMEOUT, intervalMs = 25 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Asserts-friendly: the "count" ack of the server, polled until it equals `n`. */
export async function countBecomes(socket, n, timeoutMs = DEFAULT_TIMEOUT) {
  let seen;
  try {
    await eventually(
      async () => {
        seen = await call(socket, "count");
        return seen === n;
      },
      { timeoutMs },
    );
  } catch {
    throw new Error(`server "count" stayed at ${seen}, expected ${n}`);
  }
  return seen;
}

/** Resolves once the engine of `socket` uses the websocket transport. */
export async function upgraded(socket, timeoutMs = DEFAULT_TIMEOUT) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await once(engine, "upgrade", timeoutMs);
}

/** Deterministic pseudo-random bytes. */
export function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Closes every client and manager created through these helpers. */
export async function closeAll() {
  const engines = new Set();
  for (const s of sockets) {
    if (s.io?.engine) engines.add(s.io.engine);
    s.disconnect();
  }
  for (const m of managers) {
    if (m.engine) engines.add(m.engine);
    m._close?.();
  }
  sockets.clear();
  managers.clear();
  // Engines whose last socket went away are closed by the client itself;
  // close any leftover (e.g. after a refused namespace) to free the server.
  for (const e of engines) {
    if (e.readyState !== "closed") e.close();
  }
}
