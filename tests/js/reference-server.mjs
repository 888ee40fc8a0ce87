// Reference implementation of the interop test-server contract.
//
// This is the Node (socket.io 4.8.4) server that the Rust test server mirrors:
// the JS interop suite in ./interop/ must pass against both. It is used to
// validate the suite itself, and it documents the contract in executable form.
//
// Usage:  node reference-server.mjs [port]     (port: argv, else $PORT, else 0 = any free port)
// SIO_PARSER=msgpack serves socket.io-msgpack-parser clients instead of the default parser;
// RECOVERY_MS=N turns on connection state recovery with a window of N ms; PING_INTERVAL_MS and
// PING_TIMEOUT_MS change the heartbeat (tests that need a lost connection noticed quickly).
// ADMIN_UI=user:bcrypt-hash (or "noauth") instruments the server for @socket.io/admin-ui,
// read-only with ADMIN_READONLY=1; the UI's origin may poll with credentials.
// Prints one line "listening on http://127.0.0.1:<port>" once it accepts connections.

import { createServer } from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";
import { instrument } from "@socket.io/admin-ui";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

const httpServer = createServer();
const io = new Server(httpServer, {
  // The admin UI (ADMIN_UI) polls from its own origin with credentials.
  ...(process.env.ADMIN_UI ? { cors: { origin: true, credentials: true } } : {}),
  // Defaults, spelled out because the Rust server must use the same values.
  maxHttpBufferSize: 1e6, // also the websocket maxPayload
  pingInterval: Number(process.env.PING_INTERVAL_MS ?? 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS ?? 20000),
  // socket.io-client 1.x / 2.x (the legacy suite, tests/js/legacy) when asked.
  allowEIO3: process.env.SIO_ALLOW_EIO3 === "1",
  ...(process.env.SIO_PARSER === "msgpack" ? { parser: msgpackParser } : {}),
  // RECOVERY_MS=N: connection state recovery with that window (tests/js/recovery).
  ...(process.env.RECOVERY_MS
    ? { connectionStateRecovery: { maxDisconnectionDuration: Number(process.env.RECOVERY_MS), skipMiddlewares: true } }
    : {}),
});

const byJson = (a, b) => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

// ---------------------------------------------------------------- namespace "/"
io.of("/").on("connection", (socket) => {
  // Nothing is emitted on connection.

  // echo(...args): emit "echo" back to the sender with the same arguments.
  socket.on("echo", (...args) => {
    socket.emit("echo", ...args);
  });

  // ack(...args, ackFn): acknowledge with the same arguments.
  socket.on("ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });

  socket.on("join", (room, ack) => {
    socket.join(room);
    ack(true);
  });

  socket.on("leave", (room, ack) => {
    socket.leave(room);
    ack(true);
  });

  // rooms(ackFn): sorted list of the socket's rooms, including its own id room.
  socket.on("rooms", (ack) => {
    ack([...socket.rooms].sort());
  });

  // to-room({room, except?, event, args}): everyone in room but the sender
  // (and but the members of room `except`, when given).
  socket.on("to-room", ({ room, except, event, args }, ack) => {
    let op = socket.to(room);
    if (except !== undefined && except !== null) op = op.except(except);
    op.emit(event, ...(args ?? []));
    ack(true);
  });

  // to-all({event, args}): every socket of "/", sender included.
  socket.on("to-all", ({ event, args }, ack) => {
    io.of("/").emit(event, ...(args ?? []));
    ack(true);
  });

  // broadcast({event, args}): every socket of "/" but the sender.
  socket.on("broadcast", ({ event, args }, ack) => {
    socket.broadcast.emit(event, ...(args ?? []));
    ack(true);
  });

  // server-ack({event, args, timeout}): emit to the sender expecting an ack.
  socket.on("server-ack", ({ event, args, timeout }, ack) => {
    socket.timeout(timeout).emit(event, ...(args ?? []), (err, ...reply) => {
      ack(err ? { ok: false } : { ok: true, reply });
    });
  });

  // room-ack({room, event, args, timeout}): broadcast with acks to a room
  // (the sender included if it is a member); replies are the first ack
  // argument of each client, sorted by their JSON text.
  socket.on("room-ack", ({ room, event, args, timeout }, ack) => {
    io.to(room)
      .timeout(timeout)
      .emit(event, ...(args ?? []), (err, replies) => {
        ack({ ok: !err, replies: [...(replies ?? [])].sort(byJson) });
      });
  });

  // Connection state recovery (tests/js/recovery): who the socket is now.
  socket.on("whoami", (ack) => {
    ack({ id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms].sort(), data: socket.data });
  });

  socket.on("set-data", (value, ack) => {
    socket.data = value;
    ack(true);
  });

  // emit-to({room: <socket id>, event, args}): a direct emit to that socket, by id.
  socket.on("emit-to", ({ room, event, args }, ack) => {
    io.of("/").to(room).emit(event, ...(args ?? []));
    ack(true);
  });

  socket.on("volatile-me", ({ event, args }, ack) => {
    socket.volatile.emit(event, ...(args ?? []));
    ack(true);
  });

  socket.on("disconnect-me", () => {
    socket.disconnect();
  });

  // close-me: a last emit, then the whole connection closes (every namespace of it).
  socket.on("close-me", () => {
    socket.emit("bye");
    socket.disconnect(true);
  });

  socket.on("count", (ack) => {
    ack(io.of("/").sockets.size);
  });
});

// ------------------------------------------------------------ namespace "/auth"
io.of("/auth").use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") return next();
  const err = new Error("unauthorized");
  err.data = { reason: "bad token" };
  next(err);
});

io.of("/auth").on("connection", (socket) => {
  const { auth, query, headers } = socket.handshake;
  socket.emit("welcome", {
    token: auth.token,
    query: query.hello ?? null,
    header: headers["x-test"] ?? null,
  });
});

// ----------------------------------------------------------- namespace "/hooks"
// An event middleware refuses events named "forbidden". Node 4.8 raises the refusal only on
// the server-side socket ("error"); sio also sends it to the client as an "error" event and
// answers an ack with { error: { message, data } }, which this server does by hand.
io.of("/hooks").on("connection", (socket) => {
  socket.use(([event, ...args], next) => {
    if (event !== "forbidden") return next();
    const err = Object.assign(new Error("not allowed"), { data: { code: 7 } });
    const body = { message: err.message, data: err.data };
    socket.emit("error", body);
    const ack = args[args.length - 1];
    if (typeof ack === "function") ack({ error: body });
    next(err);
  });
  socket.on("error", () => {}); // where Node delivers the refusal

  socket.on("ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});

// ------------------------------------------------------- dynamic namespaces
io.of(/^\/dyn-\d+$/).on("connection", (socket) => {
  socket.emit("hello", socket.nsp.name);
});

// Any other namespace is refused by socket.io with "Invalid namespace".

if (process.env.ADMIN_UI) {
  const [username, ...hash] = process.env.ADMIN_UI.split(":");
  instrument(io, {
    auth: process.env.ADMIN_UI === "noauth" ? false : { type: "basic", username, password: hash.join(":") },
    readonly: process.env.ADMIN_READONLY === "1",
    mode: "development",
  });
}

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});

const shutdown = () => {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
