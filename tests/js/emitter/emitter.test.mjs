// Emitters of both languages against servers of both languages, on one Redis (REDIS_URL)
// with the channel prefix PREFIX: sio's RedisEmitter (driven through the sio node at
// SIO_URL, started by tests/tests/redis_emitter.rs: a client emits `cmd` with
// {op: "emitter", action, ...} and the node runs it with its emitter) and Node's
// @socket.io/redis-emitter 5.1 (here), to the sio node and to a Node socket.io 4.8 server
// with @socket.io/redis-adapter 8.3 (started here). Clients on both servers, namespaces `/`
// and `/admin`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { SIO, REDIS, PREFIX, clients, client, once, cmd, bytes, until } from "../cluster-helpers.mjs";

let nodeIo, httpServer, nodeUrl, pub, sub, emitterClient, nodeEmitter;

// s1, s2: clients of the sio node; n1, n2: of the Node server; sa, na: of `/admin` on each.
// s1 and n1 are in room "r".
let s1, s2, n1, n2, sa, na;

/** The clients of the sio node (the others are the Node server's). */
const onSio = new WeakSet();

/** A client of the sio node at `path`. */
async function sioClient(path = "") {
  const s = await client(`${SIO}${path}`);
  onSio.add(s);
  return s;
}

/** Joins `room` on either server. */
async function join(s, room) {
  if (onSio.has(s)) assert.equal(await cmd(s, { op: "join", room }), true);
  else assert.equal(await s.timeout(3000).emitWithAck("join", room), true);
}

/** The events every client of `list` receives until `marker`: their names, in order. */
function seenUntil(list, marker) {
  return Promise.all(
    list.map(
      (s) =>
        new Promise((resolve, reject) => {
          const seen = [];
          const t = setTimeout(() => reject(new Error(`no ${marker} within 5000 ms`)), 5000);
          const h = (ev) => {
            if (ev === marker) {
              clearTimeout(t);
              s.offAny(h);
              resolve(seen);
            } else seen.push(ev);
          };
          s.onAny(h);
        }),
    ),
  );
}

// The same operations through either emitter. Each resolves once the message is sent.
const rust = {
  name: "sio's RedisEmitter",
  run: async (c) => assert.equal(await cmd(s2, { op: "emitter", ...c }), true),
  emit: (sel, event, data) => rust.run({ ...sel, action: "emit", event, data }),
  emitBinary: (sel, event) => rust.run({ ...sel, action: "emit", event, binary: true }),
  join: (sel, targets) => rust.run({ ...sel, action: "join", targets }),
  leave: (sel, targets) => rust.run({ ...sel, action: "leave", targets }),
  disconnect: (sel, close) => rust.run({ ...sel, action: "disconnect", close }),
  sse: (event, data) => rust.run({ action: "sse", event, data }),
};

/** Node's emitter narrowed to `sel` ({nsp, rooms, except, volatile, compress}). */
function nodeOp(sel) {
  let op = sel.nsp ? nodeEmitter.of(sel.nsp) : nodeEmitter;
  for (const r of sel.rooms ?? []) op = op.to(r);
  for (const r of sel.except ?? []) op = op.except(r);
  if (sel.volatile) op = op.volatile;
  if (sel.compress !== undefined) op = op.compress(sel.compress);
  return op;
}

const node = {
  name: "Node's redis-emitter",
  emit: async (sel, event, data) => nodeOp(sel).emit(event, data),
  emitBinary: async (sel, event) =>
    nodeOp(sel).emit(event, Buffer.from([7, 8, 9]), { nested: Buffer.from("hi") }),
  join: async (sel, targets) => nodeOp(sel).socketsJoin(targets),
  leave: async (sel, targets) => nodeOp(sel).socketsLeave(targets),
  disconnect: async (sel, close) => nodeOp(sel).disconnectSockets(close),
  sse: async (event, data) => nodeEmitter.serverSideEmit(event, data),
};

before(async () => {
  pub = createClient({ url: REDIS });
  sub = pub.duplicate();
  emitterClient = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);
  nodeEmitter = new Emitter(emitterClient, { key: PREFIX });
  httpServer = createServer();
  nodeIo = new Server(httpServer, { adapter: createAdapter(pub, sub, { key: PREFIX, requestsTimeout: 2000 }) });
  nodeIo.on("connection", (socket) => {
    socket.on("join", (room, cb) => {
      socket.join(room);
      cb(true);
    });
  });
  nodeIo.of("/admin");
  nodeIo.on("note", (arg) => nodeIo.local.emit("note-received", { node: "node", got: arg }));
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  nodeUrl = `http://127.0.0.1:${httpServer.address().port}`;
  await until("both servers subscribed", async () => (await nodeIo.of("/").adapter.serverCount()) === 2);
  await until("both servers on /admin", async () => (await nodeIo.of("/admin").adapter.serverCount()) === 2);
  [s1, s2, n1, n2, sa, na] = await Promise.all([
    sioClient(),
    sioClient(),
    client(nodeUrl),
    client(nodeUrl),
    sioClient("/admin"),
    client(`${nodeUrl}/admin`),
  ]);
  await join(s1, "r");
  await join(n1, "r");
});

after(async () => {
  for (const s of clients) s.disconnect();
  await nodeIo?.close();
  await Promise.allSettled([pub?.quit(), sub?.quit(), emitterClient?.quit()]);
});

for (const e of [rust, node]) {
  test(`${e.name}: to every client of both servers`, async () => {
    const got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "hello")));
    await e.emit({}, "hello", { n: 1, s: "x" });
    for (const args of await got) assert.deepEqual(args, [{ n: 1, s: "x" }]);
  });

  test(`${e.name}: to a room, and except a room`, async () => {
    let seen = seenUntil([s1, s2, n1, n2], "m1");
    await e.emit({ rooms: ["r"] }, "in-r", 1);
    await e.emit({}, "m1", 0);
    assert.deepEqual(await seen, [["in-r"], [], ["in-r"], []]);
    seen = seenUntil([s1, s2, n1, n2], "m2");
    await e.emit({ except: ["r"] }, "not-r", 2);
    await e.emit({}, "m2", 0);
    assert.deepEqual(await seen, [[], ["not-r"], [], ["not-r"]]);
  });

  test(`${e.name}: another namespace`, async () => {
    const seen = seenUntil([s1, n1], "m3");
    const got = Promise.all([once(sa, "admin-news"), once(na, "admin-news")]);
    await e.emit({ nsp: "admin" }, "admin-news", "hi");
    await e.emit({}, "m3", 0);
    for (const args of await got) assert.deepEqual(args, ["hi"]);
    assert.deepEqual(await seen, [[], []]);
  });

  test(`${e.name}: binary, with volatile and compress flags`, async () => {
    const got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "bin")));
    await e.emitBinary({ volatile: true, compress: false }, "bin");
    for (const [buf, obj] of await got) {
      assert.deepEqual(bytes(buf), [7, 8, 9]);
      assert.deepEqual(bytes(obj.nested), [...Buffer.from("hi")]);
    }
  });

  test(`${e.name}: socketsJoin then a room emit, socketsLeave then none`, async () => {
    let seen = seenUntil([s1, s2, n1, n2], "m4");
    await e.join({ rooms: ["r"] }, ["r2", "r3"]);
    await e.emit({ rooms: ["r2"] }, "in-r2", 1);
    await e.emit({ rooms: ["r3"] }, "in-r3", 1);
    await e.emit({}, "m4", 0);
    assert.deepEqual(await seen, [["in-r2", "in-r3"], [], ["in-r2", "in-r3"], []]);
    seen = seenUntil([s1, s2, n1, n2], "m5");
    await e.leave({}, ["r2", "r3"]);
    await e.emit({ rooms: ["r2"] }, "in-r2", 2);
    await e.emit({ rooms: ["r3"] }, "in-r3", 2);
    await e.emit({}, "m5", 0);
    assert.deepEqual(await seen, [[], [], [], []]);
  });

  test(`${e.name}: serverSideEmit reaches both servers`, async () => {
    const got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "note-received")));
    await e.sse("note", { from: e.name });
    const sio = [{ node: "sio", got: { from: e.name } }];
    const nodes = [{ node: "node", got: { from: e.name } }];
    assert.deepEqual(await got, [sio, sio, nodes, nodes]);
  });

  test(`${e.name}: disconnectSockets`, async () => {
    const [x, y] = await Promise.all([sioClient(), client(nodeUrl)]);
    await join(x, "bye");
    await join(y, "bye");
    const gone = Promise.all([once(x, "disconnect"), once(y, "disconnect")]);
    await e.disconnect({ rooms: ["bye"] }, false);
    for (const [reason] of await gone) assert.equal(reason, "io server disconnect");
    assert.ok(s1.connected && n1.connected);
    // With close: the connection goes too (the client sees its transport close).
    const [v, w] = await Promise.all([sioClient(), client(nodeUrl)]);
    await join(v, "bye2");
    await join(w, "bye2");
    const closed = Promise.all([once(v, "disconnect"), once(w, "disconnect")]);
    await e.disconnect({ rooms: ["bye2"] }, true);
    for (const [reason] of await closed) assert.ok(["io server disconnect", "transport close"].includes(reason), reason);
  });
}

test("object keys keep their written order on every path", async () => {
  const keys = (args) => Object.keys(args[0]);
  // A sio node's broadcast, to a client of the Node server (and of its own).
  let got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "unsorted")));
  assert.equal(await cmd(s1, { op: "emit-unsorted" }), true);
  for (const args of await got) assert.deepEqual(keys(args), ["z", "a", "m"]);
  // A Node server's broadcast, to a client of the sio node.
  got = once(s1, "unsorted-node");
  const alsoNode = Promise.all([s2, n1, n2].map((s) => once(s, "unsorted-node")));
  nodeIo.emit("unsorted-node", { z: 1, a: 2, m: 3 });
  assert.deepEqual(keys(await got), ["z", "a", "m"]);
  await alsoNode;
  // sio's emitter, to both servers' clients.
  got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "unsorted")));
  await rust.run({ action: "emit-unsorted", event: "unsorted" });
  for (const args of await got) assert.deepEqual(keys(args), ["z", "a", "m"]);
  // Node's emitter, to a client of the sio node.
  got = Promise.all([s1, s2, n1, n2].map((s) => once(s, "unsorted-emitter")));
  nodeEmitter.emit("unsorted-emitter", { z: 1, a: 2, m: 3 });
  for (const args of await got) assert.deepEqual(keys(args), ["z", "a", "m"]);
});
