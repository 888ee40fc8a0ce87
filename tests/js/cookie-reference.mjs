// Prints the Set-Cookie header that Node's socket.io 4.8 server puts on a polling handshake,
// for each `cookie` option given, so tests/tests/engine_hooks.rs can compare sio's byte for byte.
//
// Usage:  node cookie-reference.mjs '<JSON array of cookie options>'
// Prints one JSON array: for each option set, the Set-Cookie values with the session id
// replaced by "<sid>" (an empty array when none was set).

import { createServer } from "node:http";
import { Server } from "socket.io";

const optionSets = JSON.parse(process.argv[2] ?? "[]");

async function setCookieFor(cookie) {
  const httpServer = createServer();
  const io = new Server(httpServer, { cookie });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = httpServer.address();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    const body = await res.text();
    const sid = JSON.parse(body.slice(1)).sid;
    return res.headers.getSetCookie().map((c) => c.replace(sid, "<sid>"));
  } finally {
    io.close();
    httpServer.close();
  }
}

const out = [];
for (const cookie of optionSets) {
  // JSON has no dates: an `expires` string is the date it names.
  if (typeof cookie === "object" && typeof cookie.expires === "string") {
    cookie.expires = new Date(cookie.expires);
  }
  out.push(await setCookieFor(cookie));
}
console.log(JSON.stringify(out));
