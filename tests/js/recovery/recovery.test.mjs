// Connection state recovery, as socket.io-client 4.8 sees it (Node's `connectionStateRecovery`).
//
// Runs against a server with recovery on and a window of RECOVERY_MS (the Rust harness,
// tests/tests/recovery.rs, starts sio's interop server and Node's reference server, both
// with it). Clients are created with `reconnection: false` and reconnected by hand with
// `socket.connect()`, so each test decides when the client comes back.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  call,
  client,
  closeAll,
  connect,
  connected,
  countBecomes,
  manager,
  once,
  record,
  track,
} from "../interop/helpers.mjs";

const WINDOW = Number(process.env.RECOVERY_MS ?? 0);
if (!WINDOW) throw new Error("RECOVERY_MS must be set to the server's recovery window");

afterEach(closeAll);

/** Drops the transport as a network failure would; resolves with the client's reason. */
async function dropTransport(socket) {
  const gone = once(socket, "disconnect");
  socket.io.engine.close();
  const [reason] = await gone;
  return reason;
}

/** Reconnects a socket by hand; resolves once "connect" fired. */
async function reconnect(socket) {
  const back = once(socket, "connect");
  socket.connect();
  await back;
  return socket;
}

const names = (rec) => rec.events.map((args) => args[0]);

test("a socket that lost its transport gets its id, rooms, data and missed packets back, in order and once", async () => {
  const a = await connect("/");
  const b = await connect("/");
  const warm = record(a, "warm");
  const missed = record(a, "missed");
  await call(a, "join", "r");
  await call(a, "set-data", { nick: "ann" });
  // An event carries its offset as a last string argument; the client remembers it.
  await call(b, "emit-to", { room: a.id, event: "warm", args: [1] });
  const [[one, offset]] = await warm.next(1);
  assert.equal(one, 1);
  assert.equal(typeof offset, "string");
  const id = a.id;

  const reason = await dropTransport(a);
  assert.notEqual(reason, "io client disconnect");
  await countBecomes(b, 1); // the server has seen it go

  await call(b, "to-room", { room: "r", event: "missed", args: ["room"] });
  await call(b, "to-all", { event: "missed", args: ["all"] });
  await call(b, "broadcast", { event: "missed", args: ["broadcast"] });
  await call(b, "emit-to", { room: id, event: "missed", args: ["direct"] });
  await call(b, "to-room", { room: "elsewhere", event: "missed", args: ["not for a"] });
  await call(b, "to-room", { room: "r", except: "r", event: "missed", args: ["excluded"] });

  // The missed packets arrive before "connect" (the client buffers them until it).
  let atConnect;
  a.once("connect", () => (atConnect = names(missed)));
  await reconnect(a);
  assert.equal(a.recovered, true);
  assert.equal(a.id, id);
  assert.deepEqual(atConnect, ["room", "all", "broadcast", "direct"]);
  for (const args of missed.events) assert.equal(typeof args.at(-1), "string", "each carries its offset");
  const me = await call(a, "whoami");
  assert.deepEqual(me, { id, recovered: true, rooms: [id, "r"].sort(), data: { nick: "ann" } });

  // Once: a second drop replays nothing already seen, and new packets still arrive.
  await dropTransport(a);
  await countBecomes(b, 1);
  await reconnect(a);
  assert.equal(a.recovered, true);
  await call(b, "to-room", { room: "r", event: "missed", args: ["after"] });
  await missed.next(5);
  assert.deepEqual(names(missed), ["room", "all", "broadcast", "direct", "after"]);
  assert.equal(warm.events.length, 1);
  assert.equal(await call(b, "count"), 2);
});

test("events emitted with an ack or volatile carry no offset", async () => {
  const a = await connect("/");
  const plain = once(a, "plain");
  await call(a, "emit-to", { room: a.id, event: "plain", args: [1] });
  const args = await plain;
  assert.equal(args.length, 2);
  assert.equal(args[0], 1);
  assert.equal(typeof args[1], "string");

  const vol = once(a, "vol");
  await call(a, "volatile-me", { event: "vol", args: [1] });
  assert.deepEqual(await vol, [1]);

  let seen;
  a.on("question", (...args) => {
    seen = args.length;
    args.at(-1)("yes");
  });
  const reply = await call(a, "server-ack", { event: "question", args: [1], timeout: 3000 });
  assert.deepEqual(reply, { ok: true, reply: ["yes"] });
  assert.equal(seen, 2, "the argument and the ack callback, no offset");
});

test("a session expires after the window", async () => {
  const a = await connect("/");
  const b = await connect("/");
  const ev = once(a, "warm");
  await call(b, "emit-to", { room: a.id, event: "warm", args: [] });
  await ev;
  const id = a.id;
  await dropTransport(a);
  await countBecomes(b, 1);
  // The expiry is a time: wait past it.
  await new Promise((r) => setTimeout(r, WINDOW + 500));
  await reconnect(a);
  assert.equal(a.recovered, false);
  assert.notEqual(a.id, id);
  assert.equal((await call(a, "whoami")).recovered, false);
});

test("a client that disconnects on purpose is not recovered", async () => {
  const a = await connect("/");
  const b = await connect("/");
  const ev = once(a, "warm");
  await call(b, "emit-to", { room: a.id, event: "warm", args: [] });
  await ev;
  await call(a, "join", "r");
  const id = a.id;
  a.disconnect();
  await countBecomes(b, 1);
  await reconnect(a);
  assert.equal(a.recovered, false);
  assert.notEqual(a.id, id);
  const me = await call(a, "whoami");
  assert.deepEqual(me.rooms, [a.id]);
});

test("bogus and foreign session ids get a fresh socket", async () => {
  const bogus = await connect("/", { auth: { pid: "bogus", offset: "1" } });
  assert.equal((await call(bogus, "whoami")).recovered, false);
  const malformed = await connect("/", { auth: { pid: 42, offset: { x: 1 } } });
  assert.equal((await call(malformed, "whoami")).recovered, false);

  // A session of namespace /auth does not recover a socket of /.
  const m = manager();
  const root = track(m.socket("/"));
  const other = track(m.socket("/auth", { auth: { token: "secret" } }));
  const welcome = once(other, "welcome");
  await Promise.all([connected(root), connected(other)]);
  const args = await welcome;
  const offset = args.at(-1);
  const pid = other._pid;
  assert.equal(typeof pid, "string");
  const watcher = await connect("/");
  await dropTransport(root);
  await countBecomes(watcher, 3); // bogus, malformed, watcher
  const foreign = await connect("/", { auth: { pid, offset } });
  assert.equal((await call(foreign, "whoami")).recovered, false);
});

test("a recovered socket skips the connect middlewares", async () => {
  const m = manager();
  const root = track(m.socket("/"));
  const guarded = track(m.socket("/auth", { auth: { token: "secret" } }));
  const welcome = once(guarded, "welcome");
  await Promise.all([connected(root), connected(guarded)]);
  await welcome;
  const id = guarded.id;
  const watcher = await connect("/");
  // The token no longer passes the middleware; a recovered socket does not meet it.
  guarded.auth = { token: "expired" };
  await dropTransport(root);
  await countBecomes(watcher, 1);
  const again = once(guarded, "welcome");
  guarded.connect();
  await connected(guarded);
  assert.equal(guarded.recovered, true);
  assert.equal(guarded.id, id);
  await again; // the connect handler runs for a recovered socket too
});
