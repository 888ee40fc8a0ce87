// Echo load with socket.io-client 4.8 (node, `ws`: it offers permessage-deflate and compresses
// messages of 1 KB or more) against a server honouring the bench contract
// (examples/bench_server): CLIENTS clients over WebSocket, PIPELINE acks in flight each, a
// payload of PAYLOAD bytes of chat-like JSON. Prints acks/s and whether the extension was
// agreed on. The server's CPU and the bytes on the wire are measured around it (README,
// Performance).
//
//   node tests/js/bench-deflate.mjs http://127.0.0.1:3000 [CLIENTS=20] [PIPELINE=8] [SECS=5] [PAYLOAD=2048]
import { io } from "socket.io-client";

const [url = "http://127.0.0.1:3000", clients = "20", pipeline = "8", secs = "5", size = "2048"] =
  process.argv.slice(2);
const words = ["hello", "room", "lobby", "message", "typing", "online", "socket", "server", "reply", "again"];
const messages = [];
for (let i = 0; JSON.stringify(messages).length < Number(size); i++) {
  messages.push({ id: 1000 + i, user: `user-${i % 7}`, text: words.slice(i % 5, (i % 5) + 4).join(" "), at: 1700000000000 + i * 997 });
}
const payload = { messages };

const sockets = await Promise.all(
  Array.from({ length: Number(clients) }, () => new Promise((ok, ko) => {
    const s = io(url, { transports: ["websocket"], reconnection: false });
    s.on("connect", () => ok(s));
    s.on("connect_error", ko);
  })),
);
const ext = sockets[0].io.engine.transport.ws.extensions || "none";
let acks = 0;
let running = true;
const end = Date.now() + Number(secs) * 1000;
await Promise.all(
  sockets.flatMap((s) => Array.from({ length: Number(pipeline) }, async () => {
    while (running && Date.now() < end) {
      await s.emitWithAck("echo", payload);
      acks++;
    }
  })),
);
running = false;
console.log(JSON.stringify({ extensions: ext, payload_bytes: JSON.stringify(payload).length, acks, acks_per_s: acks / Number(secs) }));
for (const s of sockets) s.disconnect();
process.exit(0);
