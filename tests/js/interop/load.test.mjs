// Many clients, many messages, large payloads.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { bytes, call, closeAll, connectMany, connect, once, record, requestWithTimeout } from "./helpers.mjs";

afterEach(closeAll);

test("200 concurrent clients each complete an ack round trip", { timeout: 60000 }, async () => {
  const N = 200;
  const clients = await connectMany(N, "/", {}, 30000);
  assert.equal(new Set(clients.map((s) => s.id)).size, N, "socket ids must be unique");
  const replies = await Promise.all(
    clients.map((s, i) => requestWithTimeout(30000, s, "ack", i, s.id)),
  );
  replies.forEach((r, i) => assert.deepEqual(r, [i, clients[i].id]));
  const count = await call(clients[0], "count");
  assert.ok(count >= N, `server counts ${count} sockets, expected at least ${N}`);
});

test("500 messages from one client come back through echo in order", { timeout: 30000 }, async () => {
  const s = await connect("/");
  const N = 500;
  const rec = record(s, "echo");
  for (let i = 0; i < N; i++) s.emit("echo", i, `m${i}`);
  const got = await rec.next(N, 20000);
  assert.equal(got.length, N);
  got.forEach(([n, m], i) => {
    assert.equal(n, i);
    assert.equal(m, `m${i}`);
  });
});

test("a 600 KB string payload is echoed intact", { timeout: 30000 }, async () => {
  const s = await connect("/");
  // Mostly ASCII, with some multi-byte characters sprinkled in.
  const unit = "abcdefghijklmnopqrstuvwxyz0123456789-é✓";
  let big = unit.repeat(Math.ceil(600000 / unit.length)).slice(0, 600000);
  assert.equal(big.length, 600000);
  const echoed = once(s, "echo", 20000);
  s.emit("echo", big);
  const [got] = await echoed;
  assert.equal(typeof got, "string");
  assert.equal(got.length, big.length);
  assert.ok(got === big, "string payload differs");
});

test("a 600 KB binary payload is echoed intact", { timeout: 30000 }, async () => {
  const s = await connect("/");
  const big = bytes(600 * 1024, 99);
  const echoed = once(s, "echo", 20000);
  s.emit("echo", { label: "big", data: big });
  const [got] = await echoed;
  assert.equal(got.label, "big");
  assert.ok(Buffer.isBuffer(got.data));
  assert.equal(got.data.length, big.length);
  assert.ok(got.data.equals(big), "binary payload differs");
  // and the connection is still healthy
  assert.deepEqual(await requestWithTimeout(5000, s, "ack", "after"), ["after"]);
});
