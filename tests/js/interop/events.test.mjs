// Plain events, binary events and the transport in use.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  MODE,
  TRANSPORTS,
  bytes,
  call,
  client,
  closeAll,
  connect,
  connected,
  once,
  record,
} from "./helpers.mjs";

afterEach(closeAll);

test(`transport in use matches SIO_TRANSPORTS (${TRANSPORTS.join(",")})`, async () => {
  const s = await connect("/");
  assert.equal(typeof s.id, "string");
  assert.ok(s.id.length > 0);
  const engine = s.io.engine;
  if (MODE === "upgrade") {
    // Starts on polling, must end up on websocket.
    if (engine.transport.name !== "websocket") {
      await once(engine, "upgrade");
    }
    assert.equal(engine.transport.name, "websocket");
  } else {
    assert.equal(engine.transport.name, MODE);
  }
  // Traffic still flows afterwards, and the transport does not change.
  for (let i = 0; i < 5; i++) {
    s.emit("echo", i);
    const [got] = await once(s, "echo");
    assert.equal(got, i);
  }
  assert.equal(engine.transport.name, MODE === "polling" ? "polling" : "websocket");
});

test("upgrade mode: events emitted before, during and after the upgrade arrive in order", async (t) => {
  if (MODE !== "upgrade") return t.skip("only meaningful with polling,websocket");
  const s = client("/");
  const engine = s.io.engine;
  assert.equal(engine.transport.name, "polling");
  const upgrade = once(engine, "upgrade");
  const rec = record(s, "echo");
  for (let i = 0; i < 30; i++) s.emit("echo", i); // buffered until connected
  await connected(s);
  for (let i = 30; i < 60; i++) s.emit("echo", i);
  await upgrade;
  assert.equal(engine.transport.name, "websocket");
  for (let i = 60; i < 90; i++) s.emit("echo", i);
  const got = await rec.next(90);
  assert.deepEqual(
    got.map(([n]) => n),
    Array.from({ length: 90 }, (_, i) => i),
  );
});

test("text event round-trips JSON values of every kind", async () => {
  const s = await connect("/");
  const args = [
    "hello",
    "ünïcødé ✓ 😀 \u2028 \"quotes\" \\ / \n\t",
    42,
    -3.5,
    0,
    true,
    false,
    null,
    [],
    {},
    [1, "two", [3, [4]], { five: 5 }],
    { a: { b: { c: [null, true, "x"] } }, "ключ": "значение" },
  ];
  s.emit("echo", ...args);
  const got = await once(s, "echo");
  assert.deepEqual(got, args);
});

test("event with no arguments", async () => {
  const s = await connect("/");
  s.emit("echo");
  const got = await once(s, "echo");
  assert.deepEqual(got, []);
});

test("JSON that looks like a binary placeholder stays plain JSON", async () => {
  const s = await connect("/");
  const tricky = { _placeholder: true, num: 0 };
  s.emit("echo", tricky, [tricky]);
  const got = await once(s, "echo");
  assert.deepEqual(got, [tricky, [tricky]]);
});

test("binary event: Buffer bytes round-trip", async () => {
  const s = await connect("/");
  const buf = bytes(1024, 7);
  s.emit("echo", buf);
  const [got] = await once(s, "echo");
  assert.ok(Buffer.isBuffer(got), "binary arrives as a Buffer in node");
  assert.equal(got.length, 1024);
  assert.ok(got.equals(buf), "bytes differ");
});

test("binary event: Uint8Array, ArrayBuffer and empty buffer", async () => {
  const s = await connect("/");
  const u8 = new Uint8Array([0, 1, 2, 253, 254, 255]);
  const ab = new Uint8Array([9, 8, 7]).buffer;
  const empty = Buffer.alloc(0);
  s.emit("echo", u8, ab, empty);
  const got = await once(s, "echo");
  assert.equal(got.length, 3);
  // Read through a Uint8Array: with socket.io-msgpack-parser, Node's server sends an
  // ArrayBuffer back as an ArrayBuffer (notepack's ext type 0), where sio sends a Buffer.
  assert.deepEqual([...new Uint8Array(got[0])], [0, 1, 2, 253, 254, 255]);
  assert.deepEqual([...new Uint8Array(got[1])], [9, 8, 7]);
  assert.ok(Buffer.isBuffer(got[2]));
  assert.equal(got[2].length, 0);
});

test("binary event: JSON mixed with several binaries nested in objects and arrays", async () => {
  const s = await connect("/");
  const a = bytes(10, 1);
  const b = bytes(300, 2);
  const c = bytes(70000, 3);
  const payload = {
    name: "mixed",
    first: a,
    list: [1, b, { deep: [c, "after"] }, null],
    again: a, // the same buffer twice
    meta: { n: 3, ok: true },
  };
  s.emit("echo", "head", payload, [b, 5], Buffer.from("tail"));
  const got = await once(s, "echo");
  assert.equal(got.length, 4);
  assert.equal(got[0], "head");
  const p = got[1];
  assert.equal(p.name, "mixed");
  assert.ok(p.first.equals(a));
  assert.equal(p.list[0], 1);
  assert.ok(p.list[1].equals(b));
  assert.ok(p.list[2].deep[0].equals(c));
  assert.equal(p.list[2].deep[1], "after");
  assert.equal(p.list[3], null);
  assert.ok(p.again.equals(a));
  assert.deepEqual(p.meta, { n: 3, ok: true });
  assert.ok(got[2][0].equals(b));
  assert.equal(got[2][1], 5);
  assert.equal(got[3].toString(), "tail");
});

test("events are delivered only to the sender (echo is not a broadcast)", async () => {
  const [a, b] = [await connect("/"), await connect("/")];
  const onB = record(b, "echo");
  a.emit("echo", "for-a");
  const [got] = await once(a, "echo");
  assert.equal(got, "for-a");
  // b's own round-trip acts as a sentinel: anything addressed to b before it would be seen first.
  b.emit("echo", "for-b");
  const seen = await onB.next(1);
  assert.deepEqual(seen, [["for-b"]]);
});

test("a binary event followed by a text event keeps order", async () => {
  const s = await connect("/");
  const rec = record(s, "echo");
  s.emit("echo", bytes(5000, 9));
  s.emit("echo", "text");
  s.emit("echo", { b: bytes(3, 4) });
  const got = await rec.next(3);
  assert.ok(got[0][0].equals(bytes(5000, 9)));
  assert.equal(got[1][0], "text");
  assert.ok(got[2][0].b.equals(bytes(3, 4)));
  assert.equal(await call(s, "ack", "still-alive"), "still-alive");
});
