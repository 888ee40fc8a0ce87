// Rooms, broadcasts and broadcasts with acknowledgements.
//
// Non-delivery is never asserted by waiting a fixed time: after the emission
// under test, a sentinel is sent to the same recipient through the same server
// path (the server writes to one connection in order), and the recipient must
// see the sentinel without having seen the forbidden event first.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { bytes, call, closeAll, connect, connectMany, record } from "./helpers.mjs";

afterEach(closeAll);

const byJson = (a, b) => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

test("join: the rooms list includes the own-id room and the joined rooms, sorted", async () => {
  const s = await connect("/");
  assert.deepEqual(await call(s, "rooms"), [s.id]);
  assert.equal(await call(s, "join", "room-b"), true);
  assert.equal(await call(s, "join", "room-a"), true);
  assert.equal(await call(s, "join", "room-a"), true); // joining twice is idempotent
  assert.equal(await call(s, "join", s.id), true); // the own-id room is joined already
  assert.deepEqual(await call(s, "rooms"), [s.id, "room-a", "room-b"].sort());
  assert.equal(await call(s, "leave", "room-b"), true);
  assert.deepEqual(await call(s, "rooms"), [s.id, "room-a"].sort());
  assert.equal(await call(s, "leave", "never-joined"), true);
  assert.deepEqual(await call(s, "rooms"), [s.id, "room-a"].sort());
});

test("to-room reaches the other members, not the sender nor non-members; except excludes", async () => {
  const [a, b, c, d] = await connectMany(4, "/");
  // a (sender), b, c in "r"; c also in "vip"; d in neither.
  for (const s of [a, b, c]) assert.equal(await call(s, "join", "r"), true);
  assert.equal(await call(c, "join", "vip"), true);

  const rec = Object.fromEntries(
    [["a", a], ["b", b], ["c", c], ["d", d]].map(([k, s]) => [k, record(s, "msg")]),
  );

  const blob = bytes(100, 5);
  assert.equal(
    await call(a, "to-room", { room: "r", except: "vip", event: "msg", args: ["one", { blob }] }),
    true,
  );
  // b gets it.
  const [[m1, m2]] = await rec.b.next(1);
  assert.equal(m1, "one");
  assert.ok(m2.blob.equals(blob));

  // Sentinels via each socket's own id room, sent by a after the emission under test.
  for (const [k, s] of [["a", a], ["c", c], ["d", d]]) {
    const peer = k === "a" ? b : a; // a cannot address itself through socket.to()
    assert.equal(
      await call(peer, "to-room", { room: s.id, event: "msg", args: ["sentinel"] }),
      true,
    );
    const [[first]] = await rec[k].next(1);
    assert.equal(first, "sentinel", `${k} received the room message`);
  }
  assert.equal(rec.b.events.length, 1);

  // Without except, c gets it too (but still not a and d).
  assert.equal(await call(a, "to-room", { room: "r", event: "msg", args: ["two"] }), true);
  assert.deepEqual((await rec.c.next(2))[1], ["two"]);
  assert.deepEqual((await rec.b.next(2))[1], ["two"]);
  assert.equal(await call(b, "to-room", { room: a.id, event: "msg", args: ["sentinel-2"] }), true);
  assert.deepEqual((await rec.a.next(2))[1], ["sentinel-2"]);
  assert.equal(await call(a, "to-room", { room: d.id, event: "msg", args: ["sentinel-2"] }), true);
  assert.deepEqual((await rec.d.next(2))[1], ["sentinel-2"]);
});

test("leave: a socket that left a room no longer receives its messages", async () => {
  const [a, b, c] = await connectMany(3, "/");
  for (const s of [b, c]) assert.equal(await call(s, "join", "lobby"), true);
  const recB = record(b, "news");
  const recC = record(c, "news");

  assert.equal(await call(a, "to-room", { room: "lobby", event: "news", args: [1] }), true);
  assert.deepEqual(await recB.next(1), [[1]]);
  assert.deepEqual(await recC.next(1), [[1]]);

  assert.equal(await call(c, "leave", "lobby"), true);
  assert.deepEqual(await call(c, "rooms"), [c.id]);
  assert.equal(await call(a, "to-room", { room: "lobby", event: "news", args: [2] }), true);
  assert.equal(await call(a, "to-room", { room: c.id, event: "news", args: ["sentinel"] }), true);
  assert.deepEqual(await recB.next(2), [[1], [2]]);
  assert.deepEqual(await recC.next(2), [[1], ["sentinel"]]);
});

test("broadcast reaches everyone but the sender", async () => {
  const [a, b, c] = await connectMany(3, "/");
  const recs = [a, b, c].map((s) => record(s, "bc"));
  const blob = bytes(64, 8);
  assert.equal(await call(a, "broadcast", { event: "bc", args: ["hi", blob] }), true);
  for (const r of recs.slice(1)) {
    const [[m, buf]] = await r.next(1);
    assert.equal(m, "hi");
    assert.ok(buf.equals(blob));
  }
  // Sentinel for the sender: its own id room, addressed by b.
  assert.equal(await call(b, "to-room", { room: a.id, event: "bc", args: ["sentinel"] }), true);
  assert.deepEqual(await recs[0].next(1), [["sentinel"]]);
});

test("to-all reaches every socket including the sender", async () => {
  const [a, b, c] = await connectMany(3, "/");
  const recs = [a, b, c].map((s) => record(s, "all"));
  assert.equal(await call(a, "to-all", { event: "all", args: [{ x: 1 }, [2], "3"] }), true);
  for (const r of recs) {
    assert.deepEqual(await r.next(1), [[{ x: 1 }, [2], "3"]]);
  }
});

test("broadcast with acks: every member's reply is collected", async () => {
  const [ctl, m1, m2, m3] = await connectMany(4, "/");
  for (const s of [m1, m2, m3]) assert.equal(await call(s, "join", "acked"), true);
  const seen = [];
  const reply = (name, extra = []) => (...args) => {
    const cb = args.pop();
    seen.push([name, args]);
    cb(name, ...extra); // only the first ack argument is collected
  };
  m1.on("poll", reply({ who: "m1" }));
  m2.on("poll", reply("m2", ["ignored"]));
  m3.on("poll", reply(3));
  const res = await call(ctl, "room-ack", {
    room: "acked",
    event: "poll",
    args: ["question", { n: 1 }],
    timeout: 2000,
  });
  assert.equal(seen.length, 3);
  for (const [, args] of seen) assert.deepEqual(args, ["question", { n: 1 }]);
  assert.equal(res.ok, true);
  assert.deepEqual(res.replies, [{ who: "m1" }, "m2", 3].sort(byJson));
});

test("broadcast with acks: a silent member makes it time out with the other replies", async () => {
  const [ctl, m1, m2, silent] = await connectMany(4, "/");
  for (const s of [m1, m2, silent]) assert.equal(await call(s, "join", "partial"), true);
  m1.on("vote", (choice, cb) => cb({ from: "m1", choice }));
  m2.on("vote", (choice, cb) => cb({ from: "m2", choice }));
  let silentGot = null;
  silent.on("vote", (choice) => {
    silentGot = choice; // never acks
  });
  const started = Date.now();
  const res = await call(ctl, "room-ack", {
    room: "partial",
    event: "vote",
    args: ["yes"],
    timeout: 300,
  });
  assert.ok(Date.now() - started >= 250, "answered before the timeout elapsed");
  assert.equal(res.ok, false);
  assert.deepEqual(
    res.replies,
    [
      { from: "m1", choice: "yes" },
      { from: "m2", choice: "yes" },
    ].sort(byJson),
  );
  assert.equal(silentGot, "yes");
});

test("broadcast with acks to an empty room completes at once with no replies", async () => {
  const s = await connect("/");
  const started = Date.now();
  const res = await call(s, "room-ack", {
    room: "nobody-here",
    event: "anything",
    args: [],
    timeout: 3000,
  });
  assert.deepEqual(res, { ok: true, replies: [] });
  assert.ok(Date.now() - started < 2500, "should not wait for the timeout");
});

test("broadcast with acks includes the sender when it is a member, binary replies too", async () => {
  const [a, b] = await connectMany(2, "/");
  for (const s of [a, b]) assert.equal(await call(s, "join", "both"), true);
  a.on("q", (cb) => cb("from-a"));
  b.on("q", (cb) => cb("from-b"));
  const res = await call(a, "room-ack", { room: "both", event: "q", args: [], timeout: 2000 });
  assert.deepEqual(res, { ok: true, replies: ["from-a", "from-b"] });

  // binary replies
  a.off("q");
  b.off("q");
  a.on("q", (cb) => cb(Buffer.from("aa")));
  b.on("q", (cb) => cb(Buffer.from("bb")));
  const res2 = await call(b, "room-ack", { room: "both", event: "q", args: [], timeout: 2000 });
  assert.equal(res2.ok, true);
  assert.equal(res2.replies.length, 2);
  const texts = res2.replies.map((r) => Buffer.from(r).toString()).sort();
  assert.deepEqual(texts, ["aa", "bb"]);
});
