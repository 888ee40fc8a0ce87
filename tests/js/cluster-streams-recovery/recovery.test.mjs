// Connection state recovery across the nodes of a Redis Streams cluster, as socket.io-client
// 4.8 sees it: a client drops its transport on one node and comes back on another, and gets
// its id, its rooms and the packets it missed (in order, once) from there.
//
// Nodes: two sio nodes (SIO_URL and SIO_URL_B, started by tests/tests/redis_streams_cluster.rs
// with RedisAdapter::connect_streams and recovery over RECOVERY_MS), and one Node socket.io 4.8
// server with @socket.io/redis-streams-adapter 0.3 and `connectionStateRecovery`, started here.
// All share one Redis (REDIS_URL), the stream, channel prefix and session prefix derived from
// PREFIX. Every node answers the `cmd` event (tests/src/cluster.rs; the Node server below
// answers the ops these tests use).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { SIO, REDIS, PREFIX, clients, client, once, none, cmd, until } from "../cluster-helpers.mjs";

const SIO_B = process.env.SIO_URL_B;
const WINDOW = Number(process.env.RECOVERY_MS ?? 0);
assert.ok(SIO_B && WINDOW, "SIO_URL_B and RECOVERY_MS must be set");

let nodeIo, httpServer, nodeUrl, redis;

before(async () => {
  redis = createClient({ url: REDIS });
  await redis.connect();
  httpServer = createServer();
  nodeIo = new Server(httpServer, {
    adapter: createAdapter(redis, {
      streamName: PREFIX,
      channelPrefix: PREFIX,
      sessionKeyPrefix: `${PREFIX}:session:`,
      blockTimeInMs: 1000,
    }),
    connectionStateRecovery: { maxDisconnectionDuration: WINDOW },
  });
  nodeIo.on("connection", (socket) => {
    socket.on("cmd", async (c, cb) => {
      switch (c.op) {
        case "join":
          socket.join(c.room);
          return cb(true);
        case "rooms":
          return cb([...socket.rooms]);
        case "emit": {
          let op = nodeIo.to(c.rooms ?? []);
          for (const r of c.except ?? []) op = op.except(r);
          op.emit(c.event, c.data);
          return cb(true);
        }
        case "self-emit":
          socket.emit(c.event, c.data);
          return cb(true);
        case "fetch":
          return cb({ sockets: (await nodeIo.fetchSockets()).map((s) => ({ id: s.id })) });
        default:
          return cb({ error: `unknown op ${c.op}` });
      }
    });
  });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  nodeUrl = `http://127.0.0.1:${httpServer.address().port}`;
  await until("three servers", async () => (await nodeIo.of("/").adapter.serverCount()) === 3);
});

after(async () => {
  for (const s of clients) s.disconnect();
  await nodeIo?.close();
  await redis?.quit().catch(() => {});
});

const STREAM_ID = /^[0-9]+-[0-9]+$/;

/**
 * A client connects to `from`, joins room r and drops its transport; an observer on `to`
 * emits what it misses; the client reconnects to `to`.
 */
async function recoverAcross(from, to) {
  const c = await client(from);
  const o = await client(to);
  assert.equal(await cmd(c, { op: "join", room: "r" }), true);
  // Packets carry stream ids as offsets, whichever node sends them and however.
  let got = once(c, "warm");
  await cmd(o, { op: "emit", rooms: [c.id], event: "warm", data: 1 });
  const [one, offset] = await got;
  assert.equal(one, 1);
  assert.match(offset, STREAM_ID);
  got = once(c, "warm-self");
  await cmd(c, { op: "self-emit", event: "warm-self", data: 2 });
  const [two, offset2] = await got;
  assert.equal(two, 2);
  assert.match(offset2, STREAM_ID);
  const id = c.id;

  const gone = once(c, "disconnect");
  c.io.engine.close();
  // As a network failure: not a disconnection the client asked for ("forced close").
  assert.notEqual((await gone)[0], "io client disconnect");
  await until("the cluster has seen it go", async () => {
    const { sockets } = await cmd(o, { op: "fetch" });
    return !sockets.some((s) => s.id === id);
  });

  await cmd(o, { op: "emit", rooms: ["r"], event: "missed", data: "room" });
  await cmd(o, { op: "emit", event: "missed", data: "all" });
  await cmd(o, { op: "emit", rooms: [id], event: "missed", data: "direct" });
  await cmd(o, { op: "emit", rooms: ["elsewhere"], event: "missed", data: "not for c" });
  await cmd(o, { op: "emit", rooms: ["r"], except: ["r"], event: "missed", data: "excluded" });
  // The observer getting the last one means its node appended every one before it.
  const fence = once(o, "missed");
  await cmd(o, { op: "emit", event: "missed", data: "last" });
  await fence;

  const missed = [];
  c.on("missed", (x, off) => missed.push([x, off]));
  let atConnect;
  c.once("connect", () => (atConnect = missed.map(([x]) => x)));
  // The same Manager, now pointed at the other node (as a load balancer would send it).
  c.io.uri = to;
  const back = once(c, "connect");
  c.connect();
  await back;
  assert.equal(c.recovered, true, "recovered");
  assert.equal(c.id, id);
  assert.deepEqual(atConnect, ["room", "all", "direct", "last"]);
  for (const [, off] of missed) assert.match(off, STREAM_ID);
  const offsets = missed.map(([, off]) => off.split("-").map(BigInt));
  for (let i = 1; i < offsets.length; i++) {
    const [a, b] = [offsets[i - 1], offsets[i]];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), "in stream order");
  }
  assert.deepEqual((await cmd(c, { op: "rooms" })).sort(), [id, "r"].sort());

  // Back in the cluster: a room broadcast from the node it left reaches it, once.
  got = once(c, "after");
  const quiet = none(c, "missed");
  const back2 = await client(from);
  await cmd(back2, { op: "emit", rooms: ["r"], event: "after", data: 3 });
  assert.deepEqual((await got)[0], 3);
  await quiet;
  c.disconnect();
  o.disconnect();
  back2.disconnect();
}

test("sio node to sio node", async () => {
  await recoverAcross(SIO, SIO_B);
});

test("sio node to Node server", async () => {
  await recoverAcross(SIO, nodeUrl);
});

test("Node server to sio node", async () => {
  await recoverAcross(nodeUrl, SIO_B);
});

test("a session is restored once; a second attempt gets a fresh socket", async () => {
  const c = await client(SIO);
  const o = await client(SIO_B);
  await cmd(o, { op: "emit", rooms: [c.id], event: "warm", data: 1 });
  await once(c, "warm");
  const { pid, lastOffset } = { pid: c._pid, lastOffset: c._lastOffset };
  assert.ok(pid && lastOffset, "the client got a pid and an offset");
  const id = c.id;
  const gone = once(c, "disconnect");
  c.io.engine.close();
  await gone;
  await until("the cluster has seen it go", async () => {
    const { sockets } = await cmd(o, { op: "fetch" });
    return !sockets.some((s) => s.id === id);
  });
  c.io.uri = SIO_B;
  let back = once(c, "connect");
  c.connect();
  await back;
  assert.equal(c.recovered, true);
  // A second client presenting the same pid and offset: the session is gone.
  const { io: connect } = await import("socket.io-client");
  const twin = connect(SIO, { transports: ["websocket"], forceNew: true, reconnection: false });
  clients.push(twin);
  twin._pid = pid;
  twin._lastOffset = lastOffset;
  back = once(twin, "connect");
  await back;
  assert.equal(twin.recovered, false);
  assert.notEqual(twin.id, id);
  c.disconnect();
  o.disconnect();
});
