// Helpers of the mixed cluster suites (cluster/, cluster-sharded/): the environment the Rust
// test sets, socket.io-client connections, bounded waits, and the sio node's `cmd` event.

import assert from "node:assert/strict";
import { io as connect } from "socket.io-client";

export const SIO = process.env.SIO_URL;
export const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const PREFIX = process.env.PREFIX;
assert.ok(SIO && PREFIX, "SIO_URL and PREFIX must be set");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every client opened by `client`, to close at the end. */
export const clients = [];

/** A websocket client of `url`, connected to `/`. */
export function client(url) {
  const s = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  clients.push(s);
  return new Promise((resolve, reject) => {
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** The arguments of the next `ev` on `s`, within `ms`. */
export function once(s, ev, ms = 3000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
    s.once(ev, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

/** Resolves when no `ev` arrived on `s` within `ms`. */
export function none(s, ev, ms = 300) {
  return new Promise((resolve, reject) => {
    const h = (...a) => reject(new Error(`unexpected ${ev} ${JSON.stringify(a)}`));
    s.on(ev, h);
    setTimeout(() => {
      s.off(ev, h);
      resolve();
    }, ms);
  });
}

/** Runs a cluster operation on the sio node of `s` (tests/src/cluster.rs). */
export const cmd = (s, c) => s.timeout(5000).emitWithAck("cmd", c);

/** The bytes of a Buffer or ArrayBuffer, as an array. */
export const bytes = (b) => [...new Uint8Array(b)];

/** Polls `f` until it is true (5 s at most). */
export async function until(what, f) {
  for (let i = 0; i < 200; i++) {
    if (await f()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
