// Acknowledgements in both directions.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { bytes, call, closeAll, connect, once, request, requestWithTimeout } from "./helpers.mjs";

afterEach(closeAll);

test("client→server ack with several JSON arguments", async () => {
  const s = await connect("/");
  const args = [1, "two", { three: [3, 3, 3] }, [null, false], "ünï 😀"];
  const reply = await request(s, "ack", ...args);
  assert.deepEqual(reply, args);
});

test("client→server ack with no arguments", async () => {
  const s = await connect("/");
  const reply = await request(s, "ack");
  assert.deepEqual(reply, []);
});

test("client→server ack with binary arguments (top-level and nested)", async () => {
  const s = await connect("/");
  const a = bytes(16, 11);
  const b = bytes(4096, 12);
  const reply = await request(s, "ack", a, { label: "nested", data: [b, { again: a }] }, 7);
  assert.equal(reply.length, 3);
  assert.ok(Buffer.isBuffer(reply[0]) && reply[0].equals(a));
  assert.equal(reply[1].label, "nested");
  assert.ok(reply[1].data[0].equals(b));
  assert.ok(reply[1].data[1].again.equals(a));
  assert.equal(reply[2], 7);
});

test("emitWithAck resolves with the first ack argument", async () => {
  const s = await connect("/");
  const first = await s.timeout(5000).emitWithAck("ack", { x: 1 }, "ignored");
  assert.deepEqual(first, { x: 1 });
});

test("many interleaved acks are matched to the right callbacks", async () => {
  const s = await connect("/");
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      request(s, "ack", i, i % 3 === 0 ? bytes(i + 1, i + 1) : `s${i}`),
    ),
  );
  replies.forEach((r, i) => {
    assert.equal(r[0], i);
    if (i % 3 === 0) assert.ok(r[1].equals(bytes(i + 1, i + 1)));
    else assert.equal(r[1], `s${i}`);
  });
});

test("server→client ack: the server receives the client's reply (several args + binary)", async () => {
  const s = await connect("/");
  const buf = bytes(2048, 21);
  const received = once(s, "question");
  s.on("question", (...args) => {
    const cb = args.pop();
    cb("answer", 42, { data: buf }, Buffer.from([1, 2, 3]));
  });
  const res = await call(s, "server-ack", {
    event: "question",
    args: ["what?", { n: 1 }, bytes(8, 22)],
    timeout: 2000,
  });
  const [q1, q2, q3] = await received;
  assert.equal(q1, "what?");
  assert.deepEqual(q2, { n: 1 });
  assert.ok(q3.equals(bytes(8, 22)));
  assert.equal(res.ok, true);
  assert.equal(res.reply.length, 4);
  assert.equal(res.reply[0], "answer");
  assert.equal(res.reply[1], 42);
  assert.ok(res.reply[2].data.equals(buf));
  assert.deepEqual([...res.reply[3]], [1, 2, 3]);
});

test("server→client ack with no arguments either way", async () => {
  const s = await connect("/");
  let gotArgs;
  s.on("ping-me", (...args) => {
    const cb = args.pop();
    gotArgs = args;
    cb();
  });
  const res = await call(s, "server-ack", { event: "ping-me", args: [], timeout: 2000 });
  assert.deepEqual(gotArgs, []);
  assert.deepEqual(res, { ok: true, reply: [] });
});

test("server→client ack times out when the client never replies; a late reply is harmless", async () => {
  const s = await connect("/");
  let late;
  const received = once(s, "silent");
  s.on("silent", (...args) => {
    late = args.pop(); // keep the callback, do not call it (yet)
  });
  const started = Date.now();
  const res = await call(s, "server-ack", { event: "silent", args: ["x"], timeout: 200 });
  const elapsed = Date.now() - started;
  const [arg] = await received;
  assert.equal(arg, "x");
  assert.deepEqual(res, { ok: false });
  assert.ok(elapsed >= 150, `timed out too early (${elapsed} ms)`);
  // Replying after the timeout must be ignored by the server, not break the connection.
  assert.equal(typeof late, "function");
  late("too late");
  assert.deepEqual(await request(s, "ack", "still", "here"), ["still", "here"]);
  assert.ok(s.connected);
});

test("client-side ack timeout fires when the server does not ack (unknown event)", async () => {
  const s = await connect("/");
  await assert.rejects(requestWithTimeout(300, s, "no-such-event", 1), /no ack/);
  // The connection is still usable.
  assert.deepEqual(await request(s, "ack", "ok"), ["ok"]);
});
