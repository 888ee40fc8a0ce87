const { Encoder, Decoder } = require("socket.io-msgpack-parser");
const enc = new Encoder();
const hex = (p) => Buffer.from(enc.encode(p)[0]).toString("hex");
const cases = {
  event: { type: 2, data: ["msg", "hi"], nsp: "/" },
  binary_event_id: { type: 2, data: ["up", Buffer.from([1, 2, 3]), 2], nsp: "/chat", id: 7 },
  ack: { type: 3, data: [1, "x", { a: [true, null, 1.5, -3, 300, -200, 70000, 4294967296] }], nsp: "/", id: 4 },
  connect_reply: { type: 0, data: { sid: "abc" }, nsp: "/" },
  disconnect: { type: 1, nsp: "/a" },
  connect_error: { type: 4, data: { message: "Invalid namespace" }, nsp: "/x" },
  // client shapes
  client_event: { type: 2, data: ["ev", 1, "é"], options: { compress: true }, id: 3, nsp: "/" },
  client_connect: { type: 0, data: undefined, nsp: "/" },
  client_connect_auth: { type: 0, data: { token: "x" }, nsp: "/admin" },
  client_binary_ack: { type: 3, id: 5, data: [Buffer.from([9]), new Uint8Array([7, 8]).buffer], nsp: "/" },
  client_odd: { type: 2, data: ["odd", new Date(1700000000123), NaN, undefined, { u: undefined, k: 1 }, -1.25, 2 ** 53 + 2], nsp: "/" },
};
for (const [k, v] of Object.entries(cases)) console.log(k, hex(v));
