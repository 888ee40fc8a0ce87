// The bench contract (examples/bench_server) on Node's socket.io 4.8, for measuring sio's
// adapters side by side with Node's on the same Redis: `echo` acks its arguments, `bcast`
// re-emits them to every socket of `/`, `join(room)` acks true, `to-room(room, ...args)`
// emits `room-msg` to that room. pingInterval 25 s, pingTimeout 20 s.
//
// Switches, as the bench server's: PORT (default 3000); SIO_ADAPTER = redis | redis-sharded |
// redis-streams | postgres (Node's @socket.io/redis-adapter createAdapter /
// createShardedAdapter, @socket.io/redis-streams-adapter, @socket.io/postgres-adapter);
// REDIS_URL (default redis://127.0.0.1:6379); DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres); REDIS_KEY (channel prefix and stream name,
// default socket.io); RECOVERY_MS (connectionStateRecovery); SIO_ADMIN_UI=user:bcrypt-hash or
// noauth (@socket.io/admin-ui's instrument, serverId SIO_ADMIN_SERVER_ID); PORT=0 picks a free
// port (the line printed at start names it).
//
//   node tests/js/bench-cluster-server.mjs   (after `npm ci --prefix tests`)

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createClient } from "redis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createAdapter as createPostgresAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import { instrument } from "@socket.io/admin-ui";

const port = Number(process.env.PORT ?? 3000);
const kind = process.env.SIO_ADAPTER ?? (process.env.REDIS_URL ? "redis" : "");
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const key = process.env.REDIS_KEY ?? "socket.io";
const recoveryMs = Number(process.env.RECOVERY_MS || 0);

async function adapter() {
  if (!kind) return undefined;
  if (kind === "postgres") {
    const pool = new pg.Pool({
      connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    });
    await pool.query(
      "CREATE TABLE IF NOT EXISTS socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)",
    );
    return createPostgresAdapter(pool, { channelPrefix: key });
  }
  const pub = createClient({ url });
  await pub.connect();
  if (kind === "redis-streams") return createStreamsAdapter(pub, { streamName: key, channelPrefix: key });
  const sub = pub.duplicate();
  await sub.connect();
  if (kind === "redis") return createAdapter(pub, sub, { key });
  if (kind === "redis-sharded") return createShardedAdapter(pub, sub, { channelPrefix: key });
  throw new Error(`SIO_ADAPTER=${kind}: expected redis, redis-sharded, redis-streams or postgres`);
}

const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  serveClient: false,
  pingInterval: 25000,
  pingTimeout: 20000,
  adapter: await adapter(),
  connectionStateRecovery: recoveryMs ? { maxDisconnectionDuration: recoveryMs } : undefined,
});

const withoutAck = (args) => (typeof args.at(-1) === "function" ? [args.slice(0, -1), args.at(-1)] : [args, null]);

io.on("connection", (socket) => {
  socket.on("echo", (...all) => {
    const [args, ack] = withoutAck(all);
    ack?.(...args);
  });
  socket.on("bcast", (...all) => io.emit("bcast", ...withoutAck(all)[0]));
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack?.(true);
  });
  socket.on("to-room", (room, ...all) => io.to(room).emit("room-msg", ...withoutAck(all)[0]));
});

if (process.env.SIO_ADMIN_UI) {
  const [username, ...hash] = process.env.SIO_ADMIN_UI.split(":");
  instrument(io, {
    auth: process.env.SIO_ADMIN_UI === "noauth" ? false : { type: "basic", username, password: hash.join(":") },
    serverId: process.env.SIO_ADMIN_SERVER_ID,
    mode: "development",
  });
}

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`socket.io bench server (adapter: ${kind || "none"}) listening on 127.0.0.1:${httpServer.address().port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
