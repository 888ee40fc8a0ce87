// One socket.io-client 4.8 connection for examples/loadgen/trace.sh: connects once to
// namespace `/` (`ws`: WebSocket only; `upgrade`: long-polling, then the upgrade), prints what
// happened, and exits. Bounded: gives up after 5 s.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../../tests/package.json", import.meta.url));
const { io } = require("socket.io-client");

const [url, mode] = process.argv.slice(2);
const ws = mode === "ws";
const socket = io(url, {
  transports: ws ? ["websocket"] : ["polling", "websocket"],
  reconnection: false,
  forceNew: true,
});
const t0 = performance.now();
const ms = () => (performance.now() - t0).toFixed(2);
let connected = false;
let upgraded = ws;
const finish = () => {
  if (!connected || !upgraded) return;
  console.log(`trace client: ${mode}: done at ${ms()} ms`);
  // Let the last ACKs go out, then leave without a close handshake (the capture stops anyway).
  setTimeout(() => process.exit(0), 200);
};
socket.on("connect", () => {
  console.log(`trace client: CONNECT reply at ${ms()} ms, sid ${socket.id}`);
  connected = true;
  finish();
});
socket.io.on("open", () => {
  socket.io.engine.on("upgrade", () => {
    console.log(`trace client: upgraded at ${ms()} ms`);
    upgraded = true;
    finish();
  });
});
socket.on("connect_error", (e) => {
  console.error(`trace client: connect_error ${e.message}`);
  process.exit(1);
});
setTimeout(() => {
  console.error("trace client: timed out");
  process.exit(1);
}, 5000);
