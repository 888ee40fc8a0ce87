// Namespaces, connect middleware, multiplexing and connection lifecycle.

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
  request,
  track,
} from "./helpers.mjs";

afterEach(closeAll);

function connectError(socket) {
  return Promise.race([
    once(socket, "connect_error").then(([err]) => err),
    once(socket, "connect").then(() => {
      throw new Error(`unexpectedly connected to ${socket.nsp}`);
    }),
  ]);
}

test("/auth refuses a missing token with the middleware's message and data", async () => {
  const s = client("/auth");
  const err = await connectError(s);
  assert.ok(err instanceof Error);
  assert.equal(err.message, "unauthorized");
  assert.deepEqual(err.data, { reason: "bad token" });
  assert.equal(s.connected, false);
});

test("/auth refuses a wrong token", async () => {
  const s = client("/auth", { auth: { token: "wrong" } });
  const err = await connectError(s);
  assert.equal(err.message, "unauthorized");
  assert.equal(err.data.reason, "bad token");
});

test("/auth accepts the right token and sees auth, query and extra headers", async () => {
  const s = client("/auth", {
    auth: { token: "secret" },
    query: { hello: "world" },
    // socket.io-client in node sends extraHeaders on polling requests and on
    // the websocket upgrade request (the `ws` package), so in every mode.
    extraHeaders: { "x-test": "yes" },
  });
  const welcome = once(s, "welcome");
  await connected(s);
  const [data] = await welcome;
  assert.deepEqual(data, { token: "secret", query: "world", header: "yes" });
  assert.equal(typeof s.id, "string");
});

test("/auth without query or header reports nulls", async () => {
  const s = client("/auth", { auth: { token: "secret" } });
  const welcome = once(s, "welcome");
  await connected(s);
  assert.deepEqual((await welcome)[0], { token: "secret", query: null, header: null });
});

test("dynamic namespace /dyn-<n> says hello with its name", async () => {
  for (const nsp of ["/dyn-42", "/dyn-7"]) {
    const s = client(nsp);
    const hello = once(s, "hello");
    await connected(s);
    assert.equal(s.nsp, nsp);
    assert.deepEqual(await hello, [nsp]);
  }
});

test("unknown namespaces are refused with 'Invalid namespace'", async () => {
  for (const nsp of ["/nope", "/dyn-abc", "/dyn-"]) {
    const s = client(nsp);
    const err = await connectError(s);
    assert.equal(err.message, "Invalid namespace", `for ${nsp}`);
  }
});

test("multiplexing: one Manager carries '/' and '/auth' on one engine connection", async () => {
  const m = manager();
  const root = track(m.socket("/"));
  const auth = track(m.socket("/auth", { auth: { token: "secret" } }));
  const welcome = once(auth, "welcome");
  await Promise.all([connected(root), connected(auth)]);
  assert.equal(root.io, auth.io);
  assert.equal(root.io.engine, auth.io.engine);
  assert.notEqual(root.id, auth.id);
  assert.deepEqual((await welcome)[0], { token: "secret", query: null, header: null });
  root.emit("echo", "via-root");
  assert.deepEqual(await once(root, "echo"), ["via-root"]);
  assert.deepEqual(await request(root, "ack", 1, 2), [1, 2]);
});

test("multiplexing: a refused namespace does not disturb the others on the connection", async () => {
  const m = manager();
  const root = track(m.socket("/"));
  await connected(root);
  const engineId = m.engine.id;
  const bad = track(m.socket("/auth", { auth: { token: "nope" } }));
  const invalid = track(m.socket("/nope"));
  const [err1, err2] = await Promise.all([connectError(bad), connectError(invalid)]);
  assert.equal(err1.message, "unauthorized");
  assert.equal(err2.message, "Invalid namespace");
  assert.ok(root.connected);
  assert.equal(m.engine.id, engineId);
  assert.deepEqual(await request(root, "ack", "alive"), ["alive"]);
});

test("server disconnect: reason 'io server disconnect'", async () => {
  const s = await connect("/");
  const disconnected = once(s, "disconnect");
  s.emit("disconnect-me");
  const [reason] = await disconnected;
  assert.equal(reason, "io server disconnect");
  assert.equal(s.connected, false);
});

test("server disconnect of '/' keeps the multiplexed connection; '/' can connect again on it", async () => {
  const m = manager();
  const root = track(m.socket("/"));
  const dyn = track(m.socket("/dyn-1"));
  await Promise.all([connected(root), connected(dyn)]);
  const engineId = m.engine.id;
  const firstId = root.id;

  const disconnected = once(root, "disconnect");
  root.emit("disconnect-me");
  const [reason] = await disconnected;
  assert.equal(reason, "io server disconnect");
  assert.ok(dyn.connected);

  root.connect(); // sends a new CONNECT on the same engine.io connection
  await connected(root);
  assert.equal(m.engine.id, engineId);
  assert.notEqual(root.id, firstId);
  assert.deepEqual(await request(root, "ack", "again"), ["again"]);
});

test("closing the connection: the last emit, then 'io server disconnect' in every namespace", async () => {
  const m = manager();
  const root = track(m.socket("/"));
  const dyn = track(m.socket("/dyn-2"));
  await Promise.all([connected(root), connected(dyn)]);
  const bye = once(root, "bye");
  const reasons = Promise.all([once(root, "disconnect"), once(dyn, "disconnect")]);
  root.emit("close-me");
  await bye;
  const [[a], [b]] = await reasons;
  assert.equal(a, "io server disconnect");
  assert.equal(b, "io server disconnect");
  assert.equal(root.connected || dyn.connected, false);
});

test("client disconnect then a new client: new id, and the count drops back", async () => {
  const observer = await connect("/");
  await countBecomes(observer, 1, 10000); // earlier tests' clients are gone

  const first = await connect("/");
  await countBecomes(observer, 2);
  const firstId = first.id;
  first.disconnect();
  assert.equal(first.connected, false);
  await countBecomes(observer, 1);

  const second = await connect("/");
  assert.notEqual(second.id, firstId);
  assert.deepEqual(await request(second, "ack", "fresh"), ["fresh"]);
  await countBecomes(observer, 2);
  assert.equal(await call(second, "count"), 2);

  second.disconnect();
  await countBecomes(observer, 1);
});
