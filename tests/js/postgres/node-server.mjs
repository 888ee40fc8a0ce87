// A Node socket.io 4.8 server with @socket.io/postgres-adapter 0.5.0 (DATABASE_URL, PREFIX,
// TABLE), for tests/tests/postgres_mixed_cluster.rs's emitter test: prints
// `listening <port>`, then serves until its standard input closes. Its sockets join the
// room they name in `join` (acknowledged with true).

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(pool, { channelPrefix: process.env.PREFIX, tableName: process.env.TABLE }),
});
io.on("connection", (socket) => {
  socket.on("join", (room, cb) => {
    socket.join(room);
    cb?.(true);
  });
});
io.on("note", (arg) => io.local.emit("note-received", { node: "node", got: arg }));
httpServer.listen(0, "127.0.0.1", () => console.log(`listening ${httpServer.address().port}`));
process.stdin.resume();
process.stdin.on("end", async () => {
  io.close();
  await pool.end();
  process.exit(0);
});
