// Event middlewares: a refused event reaches the client as an "error" event and, when it
// asked for an ack, as the ack { error: { message, data } } (issue 16, items 3 and 5).

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { call, closeAll, connect, record, request } from "./helpers.mjs";

afterEach(closeAll);

test("/hooks: a refused event gives the client an error event and an error ack", async () => {
  const s = await connect("/hooks");
  const errors = record(s, "error");
  const reply = await call(s, "forbidden", 1);
  assert.deepEqual(reply, { error: { message: "not allowed", data: { code: 7 } } });
  const [[first]] = await errors.next(1);
  assert.deepEqual(first, { message: "not allowed", data: { code: 7 } });

  // Without an ack: the error event only.
  s.emit("forbidden", "again");
  const [, [second]] = await errors.next(2);
  assert.deepEqual(second, { message: "not allowed", data: { code: 7 } });

  // The socket is still served.
  assert.deepEqual(await request(s, "ack", "still here", 2), ["still here", 2]);
  assert.equal(s.connected, true);
});
