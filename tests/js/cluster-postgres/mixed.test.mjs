// A PostgreSQL cluster of one sio node (Rust, at SIO_URL, started by
// tests/tests/postgres_mixed_cluster.rs with PostgresAdapter::connect) and one Node socket.io
// 4.8 server with @socket.io/postgres-adapter 0.5.0's createAdapter (started here), on one
// PostgreSQL (DATABASE_URL) with the channel prefix PREFIX and the attachment table TABLE.
// Clients on each; every cluster operation must cross in both directions, payloads above the
// 8,000-byte notification threshold and binary (both through the table) included. Then Node's
// @socket.io/postgres-emitter 0.1.1 reaches the sio node. The sio node runs cluster
// operations on request: a client emits `cmd` with {op, ...} and gets the result as the ack
// (tests/src/cluster.rs).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/postgres-adapter";
import { Emitter } from "@socket.io/postgres-emitter";
import pg from "pg";
import { SIO, PREFIX, clients, client, once, none, cmd, bytes, until } from "../cluster-helpers.mjs";

const DATABASE = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TABLE = process.env.TABLE;
assert.ok(TABLE, "TABLE must be set");

let nodeIo, httpServer, nodeUrl, pool;

// a, d: clients of the sio node; b, c: clients of the Node server. a and b join room "r".
let a, b, c, d;

before(async () => {
  pool = new pg.Pool({ connectionString: DATABASE });
  httpServer = createServer();
  nodeIo = new Server(httpServer, {
    adapter: createAdapter(pool, { channelPrefix: PREFIX, tableName: TABLE }),
  });
  nodeIo.on("connection", (socket) => {
    socket.on("join", (room, cb) => {
      socket.join(room);
      cb(true);
    });
  });
  // Server-side events from other nodes.
  nodeIo.on("whoami", (arg, cb) => cb({ node: "node", got: arg }));
  nodeIo.on("note", (arg) => nodeIo.local.emit("note-received", { node: "node", got: arg }));
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  nodeUrl = `http://127.0.0.1:${httpServer.address().port}`;
  await until("Node sees the sio node", async () => (await nodeIo.of("/").adapter.serverCount()) === 2);
  [a, b, c, d] = await Promise.all([client(SIO), client(nodeUrl), client(nodeUrl), client(SIO)]);
  await until("sio sees the Node server", async () => (await cmd(a, { op: "count" })) === 2);
  assert.equal(await cmd(a, { op: "join", room: "r" }), true);
  assert.equal(await b.timeout(3000).emitWithAck("join", "r"), true);
});

after(async () => {
  for (const s of clients) s.disconnect();
  await nodeIo?.close();
  await pool?.end();
});

test("both servers count two servers", async () => {
  assert.equal(await nodeIo.of("/").adapter.serverCount(), 2);
  assert.equal(await cmd(a, { op: "count" }), 2);
});

test("broadcasts cross in both directions", async () => {
  const got = Promise.all([once(a, "hello"), once(b, "hello"), once(c, "hello"), once(d, "hello")]);
  assert.equal(await cmd(a, { op: "emit", event: "hello", data: { n: 1 } }), true);
  for (const args of await got) assert.deepEqual(args, [{ n: 1 }]);

  const got2 = Promise.all([once(a, "hello2"), once(d, "hello2"), once(b, "hello2")]);
  nodeIo.emit("hello2", { n: 2 }, "two");
  for (const args of await got2) assert.deepEqual(args, [{ n: 2 }, "two"]);
});

test("payloads above the notification threshold cross in both directions", async () => {
  const big = "é".repeat(6000);
  let got = Promise.all([once(b, "big"), once(c, "big")]);
  await cmd(a, { op: "emit", event: "big", data: big });
  for (const args of await got) assert.deepEqual(args, [big]);

  got = Promise.all([once(a, "big2"), once(d, "big2")]);
  nodeIo.emit("big2", { text: big }, 2);
  for (const args of await got) assert.deepEqual(args, [{ text: big }, 2]);
});

test("binary payloads cross in both directions", async () => {
  const got = once(a, "bin");
  nodeIo.emit("bin", Buffer.from([7, 8, 9]), { nested: Buffer.from("hi") });
  const [buf, obj] = await got;
  assert.deepEqual(bytes(buf), [7, 8, 9]);
  assert.deepEqual(bytes(obj.nested), [...Buffer.from("hi")]);

  const got2 = once(b, "bin2");
  await cmd(a, { op: "emit", event: "bin2", data: "x", binary: true });
  const [x, bin] = await got2;
  assert.equal(x, "x");
  assert.deepEqual(bytes(bin), [1, 2, 3]);
});

test("room broadcasts and except cross in both directions", async () => {
  let got = Promise.all([once(a, "in-r"), once(b, "in-r")]);
  let quiet = Promise.all([none(c, "in-r"), none(d, "in-r")]);
  nodeIo.to("r").emit("in-r", 1);
  for (const args of await got) assert.deepEqual(args, [1]);
  await quiet;

  got = Promise.all([once(a, "in-r2"), once(b, "in-r2")]);
  quiet = Promise.all([none(c, "in-r2"), none(d, "in-r2")]);
  await cmd(d, { op: "emit", rooms: ["r"], event: "in-r2", data: 2, binary: true });
  for (const [x, bin] of await got) {
    assert.equal(x, 2);
    assert.deepEqual(bytes(bin), [1, 2, 3]);
  }
  await quiet;

  got = Promise.all([once(c, "not-r"), once(d, "not-r")]);
  quiet = Promise.all([none(a, "not-r"), none(b, "not-r")]);
  nodeIo.except("r").emit("not-r", 3);
  await got;
  await quiet;

  got = Promise.all([once(c, "not-r2"), once(d, "not-r2")]);
  quiet = Promise.all([none(a, "not-r2"), none(b, "not-r2")]);
  await cmd(d, { op: "emit", except: ["r"], event: "not-r2", data: 4 });
  await got;
  await quiet;

  got = Promise.all([once(b, "bc"), once(c, "bc"), once(d, "bc")]);
  quiet = none(a, "bc");
  await cmd(a, { op: "broadcast", event: "bc", data: 5 });
  await got;
  await quiet;
});

test("emits to one socket by its id cross in both directions", async () => {
  let got = once(a, "to-a");
  let quiet = Promise.all([none(b, "to-a"), none(c, "to-a"), none(d, "to-a")]);
  nodeIo.to(a.id).emit("to-a", "from-node");
  assert.deepEqual(await got, ["from-node"]);
  await quiet;

  got = once(c, "to-c");
  quiet = Promise.all([none(a, "to-c"), none(b, "to-c"), none(d, "to-c")]);
  await cmd(d, { op: "emit", rooms: [c.id], event: "to-c", data: "from-sio" });
  assert.deepEqual(await got, ["from-sio"]);
  await quiet;
});

test("fetchSockets crosses in both directions", async () => {
  const sockets = await nodeIo.in("r").fetchSockets();
  const ids = sockets.map((s) => s.id).sort();
  assert.deepEqual(ids, [a.id, b.id].sort());
  const remote = sockets.find((s) => s.id === a.id);
  assert.ok(remote.rooms.has("r") && remote.rooms.has(a.id), `rooms of the sio socket: ${[...remote.rooms]}`);
  assert.equal(remote.handshake.query.EIO, "4");
  const got = once(a, "direct");
  remote.emit("direct", "to-a");
  assert.deepEqual(await got, ["to-a"]);

  const fetched = await cmd(d, { op: "fetch", rooms: ["r"] });
  assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [a.id, b.id].sort());
  const nodeSocket = fetched.sockets.find((s) => s.id === b.id);
  assert.deepEqual(nodeSocket.rooms.sort(), [b.id, "r"].sort());
  assert.equal(nodeSocket.query.EIO, "4");
});

test("serverSideEmit crosses in both directions, with and without ack", async () => {
  assert.deepEqual(await nodeIo.serverSideEmitWithAck("whoami", "hi"), [{ node: "sio", got: "hi" }]);
  assert.deepEqual(await cmd(a, { op: "sse", event: "whoami", data: "yo", ack: true }), {
    replies: [{ node: "node", got: "yo" }],
  });

  let got = once(a, "note-received");
  nodeIo.serverSideEmit("note", 5);
  assert.deepEqual(await got, [{ node: "sio", got: 5 }]);
  got = once(b, "note-received");
  await cmd(a, { op: "sse", event: "note", data: 6 });
  assert.deepEqual(await got, [{ node: "node", got: 6 }]);
});

test("broadcasts with acks collect replies from both servers", async () => {
  a.once("q", (x, cb) => cb(`a:${x}`));
  b.once("q", (x, cb) => cb(`b:${x}`));
  const replies = await nodeIo.to("r").timeout(3000).emitWithAck("q", 1);
  assert.deepEqual(replies.sort(), ["a:1", "b:1"]);

  a.once("q2", (x, cb) => cb(`a:${x}`));
  b.once("q2", (x, cb) => cb(`b:${x}`));
  const res = await cmd(d, { op: "ask", rooms: ["r"], event: "q2", data: 2 });
  assert.deepEqual(res, { expected: 2, replies: ["a:2", "b:2"] });

  // A binary reply from a Node client goes through the table and stays binary.
  a.once("q3", (x, cb) => cb(`a:${x}`));
  b.once("q3", (x, cb) => cb(Buffer.from([4, 5])));
  const res3 = await cmd(d, { op: "ask", rooms: ["r"], event: "q3", data: 3 });
  assert.deepEqual(res3, { expected: 2, replies: ["a:3", { _placeholder: true, num: 0 }] });
});

test("socketsJoin and socketsLeave cross in both directions", async () => {
  nodeIo.in(d.id).socketsJoin("joined");
  await until("d joined from Node", async () => (await cmd(d, { op: "rooms" })).includes("joined"));
  nodeIo.in(d.id).socketsLeave("joined");
  await until("d left from Node", async () => !(await cmd(d, { op: "rooms" })).includes("joined"));

  await cmd(a, { op: "sockets-join", rooms: [c.id], room: "joined2" });
  const rooms = nodeIo.of("/").adapter.rooms;
  await until("c joined from sio", () => rooms.get("joined2")?.has(c.id));
  await cmd(a, { op: "sockets-leave", rooms: [c.id], room: "joined2" });
  await until("c left from sio", () => !rooms.get("joined2")?.has(c.id));
});

test("Node's postgres emitter reaches the sio node", async () => {
  // Not emitter.of(..): Node's emitter 0.1.1 forgets the prefix and table there.
  const emitter = new Emitter(pool, "/", { channelPrefix: PREFIX, tableName: TABLE });
  let got = Promise.all([once(a, "from-emitter"), once(d, "from-emitter")]);
  emitter.emit("from-emitter", 1, { two: 2 });
  for (const args of await got) assert.deepEqual(args, [1, { two: 2 }]);

  got = once(a, "emitter-r");
  let quiet = none(d, "emitter-r");
  emitter.to("r").emit("emitter-r", "r");
  assert.deepEqual(await got, ["r"]);
  await quiet;

  got = once(d, "emitter-bin");
  emitter.except("r").emit("emitter-bin", Buffer.from([5, 6]));
  assert.deepEqual(bytes((await got)[0]), [5, 6]);

  const big = "z".repeat(9000);
  got = once(a, "emitter-big");
  emitter.emit("emitter-big", big);
  assert.deepEqual(await got, [big]);

  emitter.to(d.id).socketsJoin("by-emitter");
  await until("d joined by the emitter", async () => (await cmd(d, { op: "rooms" })).includes("by-emitter"));
  emitter.to(d.id).socketsLeave("by-emitter");
  await until("d left by the emitter", async () => !(await cmd(d, { op: "rooms" })).includes("by-emitter"));

  got = once(a, "note-received");
  emitter.serverSideEmit("note", "from-node-emitter");
  assert.deepEqual(await got, [{ node: "sio", got: "from-node-emitter" }]);
  // The emitter is no server.
  assert.equal(await cmd(a, { op: "count" }), 2);
});

test("disconnectSockets crosses in both directions", async () => {
  let gone = once(d, "disconnect");
  nodeIo.in(d.id).disconnectSockets();
  assert.equal((await gone)[0], "io server disconnect");

  gone = once(c, "disconnect");
  await cmd(a, { op: "disconnect", rooms: [c.id] });
  assert.equal((await gone)[0], "io server disconnect");
});
