// The runtime side of the typings test: compiled by tsc, run by tests/tests/typegen.rs with
// SIO_URL set to the origin of `tests::typed::server()`. Uses only the generated typings
// (./board.ts) to connect to /board and /chat, exercises every event, and checks each typed
// result by deep equality. Exits 1 with a message on the first mismatch or timeout; on success
// prints `typed client: N checks passed` last and exits 0. With SIO_PARSER=msgpack the
// sockets use socket.io-msgpack-parser (the server must be built with `Parser::MsgPack`).

import { createRequire } from "node:module";
import { isDeepStrictEqual, inspect } from "node:util";

import {
  connectBoard,
  connectChat,
  emitWithTimeout,
  type BoardSocket,
  type ChatSocket,
  type Color,
  type Page,
  type Player,
  type Shape,
  type Upload,
} from "./board.js";

const TIMEOUT_MS = 5000;

const url = (process.env["SIO_URL"] ?? "").replace(/\/+$/, "");
if (!url) {
  console.error("SIO_URL is not set (e.g. SIO_URL=http://127.0.0.1:3000)");
  process.exit(2);
}

let checks = 0;

/** Counts a check; throws unless `actual` deep-equals `expected` (strictly). */
function check<T>(what: string, actual: T, expected: T): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: got ${inspect(actual, { depth: 8 })}, expected ${inspect(expected, { depth: 8 })}`);
  }
  checks += 1;
}

/** `promise`, or a rejection naming `what` after TIMEOUT_MS. */
function within<T>(what: string, promise: Promise<T>, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A bounded promise settled by the listeners that `listen` registers. */
function next<T>(what: string, listen: (resolve: (value: T) => void, reject: (err: Error) => void) => void): Promise<T> {
  return within(what, new Promise<T>((resolve, reject) => listen(resolve, reject)));
}

// Loaded untyped: the package's own index.d.ts does not pass this project's strict lib check.
const msgpackParser: unknown = createRequire(import.meta.url)("socket.io-msgpack-parser");
const base = {
  transports: ["websocket"],
  reconnection: false,
  forceNew: true,
  timeout: TIMEOUT_MS,
  ...(process.env["SIO_PARSER"] === "msgpack" ? { parser: msgpackParser } : {}),
};
const sockets: Array<BoardSocket | ChatSocket> = [];

/** Connects a /board client; resolves once connected, with the user:joined it got on connect. */
async function joinBoard(name: string, width?: number): Promise<{ socket: BoardSocket; joined: [string, number] }> {
  // The auth's prefs (an Option) may be left out: the client sends Login.
  const auth = width === undefined ? { token: "secret" } : { token: "secret", prefs: { width } };
  const socket = connectBoard(url, { ...base, auth });
  sockets.push(socket);
  const joined = next<[string, number]>(`${name}: user:joined`, (done) =>
    socket.once("user:joined", (who, at) => done([who, at])),
  );
  await next<void>(`${name}: connect`, (done, fail) => {
    socket.once("connect", () => done());
    socket.once("connect_error", (err) => fail(new Error(`${name}: connect_error ${err.message}`)));
  });
  return { socket, joined: await joined };
}

async function main(): Promise<void> {
  // --- /board: auth and the server event sent on connect
  const one = await joinBoard("board 1");
  check("user:joined on connect", one.joined, ["you", 1_700_000_000_000]);
  const two = await joinBoard("board 2", 3);
  check("user:joined on the second client", two.joined, ["you", 1_700_000_000_000]);
  const board = one.socket;
  const other = two.socket;

  const rejected = connectBoard(url, { ...base, auth: { token: "wrong" } });
  sockets.push(rejected);
  const refusal = await next<string>("connect_error for a bad token", (done) =>
    rejected.once("connect_error", (err) => done(err.message)),
  );
  check("a bad token is refused by the connect handler", refusal, "bad token");
  check("the refused client is not connected", rejected.connected, false);

  // Events the first client receives (it must never get its own "drawn").
  const drawnOnBoard: Array<[Shape, Color]> = [];
  board.on("drawn", (shape, color) => drawnOnBoard.push([shape, color]));
  const drawnOnOther: Array<[Shape, Color]> = [];
  other.on("drawn", (shape, color) => drawnOnOther.push([shape, color]));
  const questions: string[] = [];
  board.on("confirm", (question, callback) => {
    questions.push(question);
    callback(true);
  });

  // --- draw: the ack is an incrementing id; the others get "drawn"
  const circle: Shape = { kind: "circle", center: { x: 1, y: 2 }, radius: 3.5 };
  const polygon: Shape = { kind: "polygon", points: [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 0, y: -3 }] };
  const firstDrawn = next<[Shape, Color]>("drawn on the other client", (done) =>
    other.once("drawn", (shape, color) => done([shape, color])),
  );
  const id1: number = await within("draw (emitWithAck)", board.emitWithAck("draw", circle, "blue"));
  check("draw acks id 1", id1, 1);
  check("the other client sees the circle", await firstDrawn, [circle, "blue"]);

  const secondDrawn = next<[Shape, Color]>("second drawn on the other client", (done) =>
    other.once("drawn", (shape, color) => done([shape, color])),
  );
  const id2 = await next<number>("draw (emit with ack callback)", (done) =>
    board.emit("draw", polygon, null, (id) => done(id)),
  );
  check("draw acks id 2", id2, 2);
  check("the other client sees the polygon, in the default color", await secondDrawn, [polygon, "red"]);

  const id3 = await next<[Error | null, number]>("draw (timeout emit)", (done) =>
    board.timeout(TIMEOUT_MS).emit("draw", circle, "red", (err, id) => done([err, id])),
  );
  check("draw with timeout() acks id 3 without an error", id3, [null, 3]);
  const id4: number = await within("draw (timeout emitWithAck)", board.timeout(TIMEOUT_MS).emitWithAck("draw", polygon, "blue"));
  check("draw with timeout().emitWithAck acks id 4", id4, 4);
  // The trailing Option (color) left out before the ack: the server draws in its default.
  const id5: number = await within("draw without a color (emitWithAck)", board.emitWithAck("draw", polygon));
  check("draw without a color acks id 5", id5, 5);
  const id6 = await next<number>("draw without a color (emit with ack callback)", (done) =>
    board.emit("draw", circle, (id) => done(id)),
  );
  check("draw without a color and a callback acks id 6", id6, 6);
  const id7: number = await within("draw (emitWithTimeout)", emitWithTimeout(board, TIMEOUT_MS, "draw", circle, "blue"));
  check("emitWithTimeout(draw) resolves to the id", id7, 7);

  // --- cursor:move has no ack, and its optional argument may be left out
  board.emit("cursor:move", { x: 5, y: 6 });
  board.emit("cursor:move", { x: 7, y: 8 }, true);
  board.emit("cursor:move", { x: 9, y: 10 }, null);

  // --- history: a Page<Shape>
  const page: Page<Shape> = await within("history(3)", board.emitWithAck("history", 3));
  const circles = (n: number): Shape[] =>
    Array.from({ length: n }, (_, i): Shape => ({ kind: "circle", center: { x: i, y: 0 }, radius: 1.5 }));
  check("history(3) is a page of 3 circles", page, { items: circles(3), total: 3 });
  const empty = await next<Page<Shape>>("history(0)", (done) => board.emit("history", 0, done));
  check("history(0) is an empty page", empty, { items: [], total: 0 });
  const timedPage = await next<[Error | null, Page<Shape>]>("history(1) with timeout", (done) =>
    board.timeout(TIMEOUT_MS).emit("history", 1, (err, p) => done([err, p])),
  );
  check("history(1) with timeout()", timedPage, [null, { items: circles(1), total: 1 }]);

  // --- upload: binary in a struct and as an argument
  const file: Upload = { name: "a.png", data: new Uint8Array([1, 2, 3, 4, 5]), tags: ["x", "y"] };
  const uploaded: [string, number] = await within(
    "upload (Uint8Array in the struct, ArrayBuffer thumbnail)",
    board.emitWithAck("upload", file, new ArrayBuffer(7)),
  );
  check("upload acks name:len and the thumbnail's length", uploaded, ["a.png:5", 7]);
  const bare: Upload = { name: "b.bin", data: new ArrayBuffer(300), tags: null };
  const uploaded2 = await next<[string, number]>("upload (ArrayBuffer in the struct, Buffer thumbnail)", (done) =>
    board.emit("upload", bare, Buffer.from("thumb"), done),
  );
  check("upload of an ArrayBuffer with no tags", uploaded2, ["b.bin:300", 5]);

  // --- pick: a trailing Option with an ack; Team goes both ways, Player only from the server
  const alone: Player = await within("pick without a team (emitWithTimeout)", emitWithTimeout(board, TIMEOUT_MS, "pick", 7));
  check("pick without a team", alone, { id: 7, team: null, score: { wins: 7, best: null } });
  // The client leaves the team's color out; the server sends it back as null (serde's None).
  const teamed = await within("pick with a team (emitWithTimeout)", emitWithTimeout(board, TIMEOUT_MS, "pick", 8, { name: "blue team" }));
  check("pick with a team, its color left out", teamed, { id: 8, team: { name: "blue team", color: null }, score: { wins: 8, best: 8000 } });
  const viaCallback = await next<Player>("pick (emit with ack callback, no team)", (done) => board.emit("pick", 9, done));
  check("pick with a callback and no team", viaCallback, { id: 9, team: null, score: { wins: 9, best: null } });
  const colored = await within("pick (emitWithAck with a colored team)", board.emitWithAck("pick", 10, { name: "red team", color: "red" }));
  check("pick with a colored team", colored, { id: 10, team: { name: "red team", color: "red" }, score: { wins: 10, best: 10000 } });

  // --- emitWithTimeout: typed reply in time, rejection past the timeout
  const quick: number = await within("slow(10) (emitWithTimeout)", emitWithTimeout(board, TIMEOUT_MS, "slow", 10));
  check("emitWithTimeout resolves to the typed reply", quick, 10);
  const late = await within(
    "slow(400) with a 50 ms timeout",
    emitWithTimeout(board, 50, "slow", 400).then(
      (reply) => `resolved with ${reply}`,
      (err: unknown) => (err instanceof Error ? `rejected: ${err.message}` : `rejected with ${String(err)}`),
    ),
  );
  check("emitWithTimeout rejects when the reply is late", late, "rejected: operation has timed out");

  // --- ask: the server emits "confirm" with an ack and reports our answer
  const answer: boolean | null = await within("ask (answered)", board.emitWithAck("ask", "sure?"));
  check("ask reports the client's answer", answer, true);
  check("confirm carried the question", questions, ["sure?"]);
  // The other client has no "confirm" listener: the server's 2 s ack timeout makes it null.
  const unanswered = await within("ask (unanswered)", other.emitWithAck("ask", "anyone?"));
  check("ask reports null when the client does not answer", unanswered, null);

  // --- anything: rest arguments, with a typed ack after them
  const counted: string = await within("anything with 3 extra", board.emitWithAck("anything", "kind", 1, "two", { three: [3] }));
  check("anything counts 3 extra arguments", counted, "kind:3");
  const none: string = await within("anything with none", board.emitWithAck("anything", "none"));
  check("anything counts no extra argument", none, "none:0");

  // --- echo: returned RawArgs are the ack's arguments, spread, binary included
  const echoed = await next<unknown[]>("echo", (done) =>
    board.emit("echo", 1, "two", { three: [3] }, Buffer.from([4, 5]), (...reply: unknown[]) => done(reply)),
  );
  check("echo replies with the same arguments", echoed, [1, "two", { three: [3] }, Buffer.from([4, 5])]);

  // --- clear: "cleared" reaches everyone, the sender included
  const clearedOnBoard = next<void>("cleared on board 1", (done) => board.once("cleared", () => done()));
  const clearedOnOther = next<void>("cleared on board 2", (done) => other.once("cleared", () => done()));
  board.emit("clear");
  await clearedOnBoard;
  await clearedOnOther;
  checks += 2;
  // The server writes to one connection in the order it emits: had the sender been sent any
  // "drawn", it would have arrived before "cleared".
  check("the drawing client never got its own drawn", drawnOnBoard, []);
  check("the other client got every drawn", drawnOnOther, [
    [circle, "blue"],
    [polygon, "red"],
    [circle, "red"],
    [polygon, "blue"],
    [polygon, "red"],
    [circle, "red"],
    [circle, "blue"],
  ]);

  // --- /chat: optional auth, Result<u32, String> as { Ok } | { Err }
  const chats: ChatSocket[] = [
    connectChat(url, base),
    connectChat(url, { ...base, auth: { token: "anything" } }),
  ];
  sockets.push(...chats);
  // Listen before awaiting anything: the second one may connect while the first is in use.
  const chatsConnected = chats.map((chat, i) =>
    next<void>(`chat ${i}: connect`, (done, fail) => {
      chat.once("connect", () => done());
      chat.once("connect_error", (err) => fail(new Error(`chat ${i}: connect_error ${err.message}`)));
    }),
  );
  for (const [i, chat] of chats.entries()) {
    await chatsConnected[i];
    const said = await within(`chat ${i}: say`, chat.emitWithAck("say", "hello", { x: 1, y: 2 }, "blue"));
    check(`chat ${i}: say acks Ok(len)`, said, { Ok: 5 });
    const bare = await within(`chat ${i}: say without at and color`, emitWithTimeout(chat, TIMEOUT_MS, "say", "hey"));
    check(`chat ${i}: say with its trailing Options left out`, bare, { Ok: 3 });
    const refused = await next<{ Ok: number } | { Err: string }>(`chat ${i}: say ""`, (done) =>
      chat.emit("say", "", null, null, done),
    );
    check(`chat ${i}: say "" acks Err`, refused, { Err: "empty" });
  }

  for (const socket of sockets) socket.disconnect();
}

const watchdog = setTimeout(() => {
  console.error("typed client: did not finish within 45 s");
  process.exit(1);
}, 45_000);

main().then(
  () => {
    clearTimeout(watchdog);
    console.log(`typed client: ${checks} checks passed`);
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`typed client: FAILED after ${checks} checks: ${err instanceof Error ? err.message : String(err)}`);
    for (const socket of sockets) socket.disconnect();
    process.exit(1);
  },
);
