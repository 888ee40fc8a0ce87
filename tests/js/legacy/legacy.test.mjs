// socket.io-client 2.x / 1.x (Engine.IO v3, Socket.IO protocol v4) against a server that
// allows them (Node: allowEIO3; sio: .allow_eio3(true)), on the interop contract
// (../reference-server.mjs).
//
// Environment: SIO_URL, SIO_TRANSPORTS as the interop suite; SIO_CLIENT=v2 (default) or v1.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { io as ioV4 } from "socket.io-client";

const require = createRequire(import.meta.url);
const CLIENT = process.env.SIO_CLIENT ?? "v2";
const legacyIo = require(CLIENT === "v1" ? "socket.io-client-v1" : "socket.io-client-v2");
const URL = (process.env.SIO_URL ?? "").replace(/\/+$/, "");
if (!URL) throw new Error("SIO_URL is not set");
const TRANSPORTS = (process.env.SIO_TRANSPORTS ?? "websocket").split(",").filter(Boolean);
const TIMEOUT = 5000;

const open = new Set();

function legacy(nsp = "/", opts = {}) {
  const s = legacyIo(URL + nsp, {
    transports: TRANSPORTS,
    reconnection: false,
    forceNew: true,
    timeout: TIMEOUT,
    ...opts,
  });
  open.add(s);
  return s;
}

function modern(nsp = "/") {
  const s = ioV4(URL + nsp, { transports: TRANSPORTS, reconnection: false, forceNew: true, timeout: TIMEOUT });
  open.add(s);
  return s;
}

afterEach(() => {
  for (const s of open) s.close();
  open.clear();
});

/** Resolves with the arguments of the next `event`, rejects after `ms`. */
function once(socket, event, ms = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function connected(socket) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("not connected in time")), TIMEOUT);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    for (const ev of ["connect_error", "error"]) {
      socket.once(ev, (e) => {
        clearTimeout(timer);
        reject(new Error(`${ev}: ${JSON.stringify(e?.message ?? e)}`));
      });
    }
  });
}

/** Emits with an ack and resolves with the ack's arguments. */
function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for '${event}' within ${TIMEOUT} ms`)), TIMEOUT);
    socket.emit(event, ...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

async function upgraded(socket) {
  if (TRANSPORTS[0] !== "polling" || TRANSPORTS.length < 2) return;
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await once(engine, "upgrade");
}

test(`${CLIENT}: connects to '/' and echoes an event`, async () => {
  const s = legacy();
  await connected(s);
  await upgraded(s);
  const [a, b] = await (s.emit("echo", "hé 😀", { n: [1, 2] }), once(s, "echo"));
  assert.equal(a, "hé 😀");
  assert.deepEqual(b, { n: [1, 2] });
  if (TRANSPORTS.length > 1) assert.equal(s.io.engine.transport.name, "websocket");
});

test(`${CLIENT}: acks from client to server`, async () => {
  const s = legacy();
  await connected(s);
  assert.deepEqual(await ack(s, "ack", 1, "two", { three: 3 }), [1, "two", { three: 3 }]);
});

test(`${CLIENT}: acks from server to client`, async () => {
  const s = legacy();
  await connected(s);
  s.on("ask", (x, cb) => cb({ doubled: x * 2 }));
  const [res] = await ack(s, "server-ack", { event: "ask", args: [21], timeout: TIMEOUT });
  assert.deepEqual(res, { ok: true, reply: [{ doubled: 42 }] });
});

test(`${CLIENT}: binary both ways, in events and acks`, async () => {
  const s = legacy();
  await connected(s);
  await upgraded(s);
  const payload = Buffer.from([0, 1, 2, 253, 254, 255]);
  const [got, meta] = await (s.emit("echo", payload, { tag: "bin" }), once(s, "echo"));
  assert.ok(Buffer.isBuffer(got), "a Buffer comes back");
  assert.deepEqual([...got], [...payload]);
  assert.deepEqual(meta, { tag: "bin" });
  const [back] = await ack(s, "ack", { nested: [payload] });
  assert.deepEqual([...back.nested[0]], [...payload]);
});

test(`${CLIENT}: a second namespace takes its auth from the query and refuses with the error's data`, async () => {
  const bad = legacy("/auth", { query: { token: "nope" } });
  const [err] = await once(bad, "error");
  assert.deepEqual(err, { reason: "bad token" });
  const good = legacy("/auth", { query: { token: "secret", hello: "world" } });
  const [welcome] = await once(good, "welcome");
  assert.equal(welcome.token, "secret");
  assert.equal(welcome.query, "world");
});

test(`${CLIENT}: a legacy and a current client in one room get the same broadcasts, binary included`, async () => {
  const [old, cur, oldSender, curSender] = [legacy(), modern(), legacy(), modern()];
  await Promise.all([old, cur, oldSender, curSender].map(connected));
  await upgraded(old);
  await Promise.all([ack(old, "join", "mixed"), ack(cur, "join", "mixed")]);
  const bin = Buffer.from([9, 8, 7, 0, 255]);
  // Sent by a current client, then by a legacy one (neither in the room): each generation
  // gets its own framing of the same packet.
  for (const sender of [curSender, oldSender]) {
    const got = Promise.all([once(old, "news"), once(cur, "news")]);
    await ack(sender, "to-room", { room: "mixed", event: "news", args: ["hi", bin, { n: 3 }] });
    for (const [text, data, obj] of await got) {
      assert.equal(text, "hi");
      assert.deepEqual([...new Uint8Array(data)], [...bin]);
      assert.deepEqual(obj, { n: 3 });
    }
  }
});

test(`${CLIENT}: server disconnect gives 'io server disconnect'`, async () => {
  const s = legacy();
  await connected(s);
  s.emit("disconnect-me");
  const [reason] = await once(s, "disconnect");
  assert.equal(reason, "io server disconnect");
});

test(`${CLIENT}: reconnects after the transport drops and works again`, async () => {
  const s = legacy("/", { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
  await connected(s);
  await upgraded(s);
  const dropped = once(s, "disconnect");
  s.io.engine.close();
  const [reason] = await dropped;
  assert.match(reason, /transport close|forced close/);
  await once(s, "reconnect");
  const [x] = await (s.emit("echo", "again"), once(s, "echo"));
  assert.equal(x, "again");
});
