// Compile-only checks of the generated typings (./board.ts); never run. `tsc -p tests/ts` must
// accept every typed use below and reject every misuse: each misuse is marked
// `@ts-expect-error`, which is itself an error when the line after it compiles, so tsc passes
// only if each expected error happens. Run by tests/tests/typegen.rs.
//
// Inferred types are checked exactly with `exact<Equal<...>>()` (an annotated variable alone
// would also accept `any`), and then assigned to an annotated variable as a typed use would.

import {
  connectBoard,
  connectChat,
  emitWithTimeout,
  type BoardSocket,
  type ChatSocket,
  type Color,
  type Login,
  type Page,
  type Player,
  type Point,
  type Prefs,
  type Score,
  type Shape,
  type Team,
  type Upload,
} from "./board.js";

/** `true` only when `A` and `B` are the same type (`any` is equal to nothing else). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Fails to compile unless its type argument is `true`. */
function exact<_T extends true>(): void {}

const circle: Shape = { kind: "circle", center: { x: 1, y: 2 }, radius: 3.5 };
const polygon: Shape = { kind: "polygon", points: [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 0, y: 3 }] };
const file: Upload = { name: "a.png", data: new Uint8Array([1, 2, 3]), tags: null };
const at0: Point = { x: 0, y: 0 };

/** Typed uses: all of these must compile. */
export async function typedUses(board: BoardSocket, chat: ChatSocket): Promise<void> {
  // emit with an ack callback: the reply type is inferred from the handler's return type.
  board.emit("draw", circle, "blue", (id) => {
    exact<Equal<typeof id, number>>();
    const n: number = id;
    void n;
  });
  board.emit("draw", polygon, null, (id) => void id);
  board.emit("history", 2, (page) => {
    exact<Equal<typeof page, Page<Shape>>>();
    const first: Shape | undefined = page.items[0]; // noUncheckedIndexedAccess
    if (first?.kind === "circle") {
      const r: number = first.radius; // narrowed by the tag
      void r;
    }
    const total: number = page.total; // u64 is a number
    void total;
  });
  board.emit("upload", file, new ArrayBuffer(4), (reply) => {
    exact<Equal<typeof reply, [string, number]>>();
    const [name, thumbnailLen]: [string, number] = reply;
    void name;
    void thumbnailLen;
  });
  board.emit("ask", "sure?", (answer) => {
    exact<Equal<typeof answer, boolean | null>>();
  });

  // emitWithAck is a Promise of the reply.
  const id = await board.emitWithAck("draw", circle, null);
  exact<Equal<typeof id, number>>();
  const page = board.emitWithAck("history", 3);
  exact<Equal<typeof page, Promise<Page<Shape>>>>();
  const uploaded: [string, number] = await board.emitWithAck("upload", file, new Uint8Array(8));
  const answer: boolean | null = await board.emitWithAck("ask", "really?");
  void uploaded;
  void answer;

  // timeout(ms).emit: the callback gets (Error, reply); timeout(ms).emitWithAck is still typed.
  board.timeout(1000).emit("draw", circle, "red", (err, id) => {
    exact<Equal<typeof err, Error>>();
    exact<Equal<typeof id, number>>();
  });
  board.timeout(1000).emit("history", 1, (err: Error, page: Page<Shape>) => void [err, page]);
  // socket.io-client 4.8.4 types timeout(ms).emitWithAck as Promise<any> (its FirstArg<> does
  // not match the (err, reply) callback that timeout() makes), so only assignability is shown.
  const timed: boolean | null = await board.timeout(1000).emitWithAck("ask", "now?");
  void timed;

  // Optional trailing arguments may be omitted, with or without an ack after them; null and
  // the value are accepted too, and the ack's reply type is still inferred.
  board.emit("draw", circle, (id) => {
    exact<Equal<typeof id, number>>();
  });
  const drawn = board.emitWithAck("draw", polygon);
  exact<Equal<typeof drawn, Promise<number>>>();
  board.timeout(1000).emit("draw", circle, (err, id) => {
    exact<Equal<typeof err, Error>>();
    exact<Equal<typeof id, number>>();
  });
  board.emit("pick", 1, (player) => {
    exact<Equal<typeof player, Player>>();
  });
  board.emit("pick", 1, { name: "red team", color: "red" }, (player) => {
    exact<Equal<typeof player, Player>>();
  });
  board.emit("pick", 1, null, (player) => void player);
  const picked = await board.emitWithAck("pick", 2);
  exact<Equal<typeof picked, Player>>();
  const pickedTeam = await board.emitWithAck("pick", 2, { name: "blue team" });
  exact<Equal<typeof pickedTeam, Player>>();
  chat.emit("say", "hi", (reply) => {
    exact<Equal<typeof reply, { Ok: number } | { Err: string }>>();
  });
  chat.emit("say", "hi", at0, (reply) => void reply);
  const saidOnly = await chat.emitWithAck("say", "hi");
  exact<Equal<typeof saidOnly, { Ok: number } | { Err: string }>>();
  board.emit("cursor:move", { x: 1, y: 1 });
  board.emit("cursor:move", { x: 1, y: 1 }, true);
  board.emit("cursor:move", { x: 1, y: 1 }, null);
  board.emit("clear");

  // Rest arguments accept anything, any number of them, and the ack still comes last.
  board.emit("anything", "kind", (reply: string) => void reply);
  board.emit("anything", "kind", 1, "two", { three: [3] }, null, new Uint8Array(1), (reply: string) => void reply);
  const counted = await board.emitWithAck("anything", "kind", 1, 2);
  exact<Equal<typeof counted, string>>();
  // @ts-expect-error the handler replies, so the ack callback is required after the rest
  board.emit("anything", "kind", 1);
  // A handler returning RawArgs replies with any number of arguments.
  board.emit("echo", 1, "two", (...reply: unknown[]) => void reply);
  // @ts-expect-error its reply is not one typed value
  board.emit("echo", 1, (reply: string) => void reply);

  // Binary arguments (top-level and inside structs) accept Uint8Array and ArrayBuffer.
  board.emit("upload", { name: "b", data: new ArrayBuffer(2), tags: ["x"] }, new Uint8Array(0), () => {});
  board.emit("upload", { name: "c", data: Buffer.from("node buffer"), tags: null }, new ArrayBuffer(0), () => {});

  // on: payloads of server events are inferred.
  board.on("drawn", (shape, color) => {
    exact<Equal<typeof shape, Shape>>();
    exact<Equal<typeof color, Color>>();
  });
  board.on("user:joined", (name, at) => {
    exact<Equal<typeof name, string>>();
    exact<Equal<typeof at, number>>();
  });
  board.on("cleared", () => {});
  // A server event with an ack: the listener gets the callback and must answer a boolean.
  board.on("confirm", (question, callback) => {
    exact<Equal<typeof question, string>>();
    exact<Equal<typeof callback, (reply: boolean) => void>>();
    callback(question.length > 0);
  });
  board.on("connect_error", (err) => void err.message); // reserved events stay typed
  board.once("user:joined", (name: string) => void name); // fewer parameters are fine

  // Chat shares Point and Color; Result<u32, String> is { Ok } | { Err }.
  const at: Point = { x: 3, y: 4 };
  chat.emit("say", "hi", at, "red", (reply) => {
    exact<Equal<typeof reply, { Ok: number } | { Err: string }>>();
    if ("Ok" in reply) {
      const len: number = reply.Ok;
      void len;
    } else {
      const why: string = reply.Err;
      void why;
    }
  });
  const said = await chat.emitWithAck("say", "", null, null);
  exact<Equal<typeof said, { Ok: number } | { Err: string }>>();
}

/**
 * Direction: a type the client sends may leave its `Option` fields out (`f?: T | null`, serde
 * reads a missing one as `None`); a type only the server sends always has them (`f: T | null`);
 * a type sent both ways is declared in the client's form.
 */
export async function directions(board: BoardSocket): Promise<void> {
  // Client-sent: Upload (an event argument), Login (auth) and Prefs (inside Login).
  const bare: Upload = { name: "b", data: new Uint8Array(0) };
  const login: Login = { token: "secret" };
  const withPrefs: Login = { token: "secret", prefs: { width: 2 } };
  const noWidth: Prefs = {};
  exact<Equal<Upload["tags"], string[] | null | undefined>>();
  exact<Equal<Prefs["width"], number | null | undefined>>();
  void [bare, login, withPrefs, noWidth];

  // Server-sent: Player (an ack reply) and Score (inside Player): the field is always there.
  const player = await board.emitWithAck("pick", 1);
  exact<Equal<Player["team"], Team | null>>();
  exact<Equal<Score["best"], number | null>>();
  const best: number | null = player.score.best;
  void best;

  // Both ways (Team is pick's argument and inside its reply): the client's form, so a reader
  // of the server's Team also handles a missing color, which the server never produces.
  const team: Team = { name: "green team" };
  exact<Equal<Team["color"], Color | null | undefined>>();
  const color: Color | null | undefined = player.team?.color;
  void [team, color];
}

/** emitWithTimeout: a typed `socket.timeout(ms).emitWithAck`, for every socket of the module. */
export async function timeouts(board: BoardSocket, chat: ChatSocket): Promise<void> {
  const player = await emitWithTimeout(board, 1000, "pick", 3);
  exact<Equal<typeof player, Player>>();
  const pickedTeam = emitWithTimeout(board, 1000, "pick", 3, { name: "t", color: null });
  exact<Equal<typeof pickedTeam, Promise<Player>>>();
  const page = await emitWithTimeout(board, 1000, "history", 2);
  exact<Equal<typeof page, Page<Shape>>>();
  const id = await emitWithTimeout(board, 1000, "draw", circle);
  exact<Equal<typeof id, number>>();
  const answer = await emitWithTimeout(board, 1000, "ask", "sure?");
  exact<Equal<typeof answer, boolean | null>>();
  const counted = await emitWithTimeout(board, 1000, "anything", "kind", 1, "two");
  exact<Equal<typeof counted, string>>();
  const said = await emitWithTimeout(chat, 1000, "say", "hi", null, "red");
  exact<Equal<typeof said, { Ok: number } | { Err: string }>>();
  // Compare socket.io-client's own typing of the same call: `any`.
  const untyped = await board.timeout(1000).emitWithAck("pick", 3);
  exact<Equal<typeof untyped, any>>();

  // @ts-expect-error clear has no ack: there is no reply to wait for
  await emitWithTimeout(board, 1000, "clear");
  // @ts-expect-error cursor:move has no ack
  await emitWithTimeout(board, 1000, "cursor:move", { x: 1, y: 1 });
  // @ts-expect-error echo replies with any number of arguments, not one typed reply
  await emitWithTimeout(board, 1000, "echo", 1);
  // @ts-expect-error no handler "erase" on /board
  await emitWithTimeout(board, 1000, "erase");
  // @ts-expect-error "say" is a /chat event
  await emitWithTimeout(board, 1000, "say", "hi");
  // @ts-expect-error pick's id is a number
  await emitWithTimeout(board, 1000, "pick", "3");
  // @ts-expect-error history needs its page number
  await emitWithTimeout(board, 1000, "history");
  // @ts-expect-error the helper makes the ack callback: none is passed
  await emitWithTimeout(board, 1000, "history", 1, (p: Page<Shape>) => void p);
  // @ts-expect-error the timeout is a number of milliseconds
  await emitWithTimeout(board, "1000", "history", 1);
  // @ts-expect-error history resolves to a Page<Shape>, not a number
  const notNumber: number = await emitWithTimeout(board, 1000, "history", 1);
  void notNumber;
}

/** Connecting: /board requires `auth: Login`, /chat takes it optionally. */
export function typedConnects(url: string): Array<BoardSocket | ChatSocket> {
  const login: Login = { token: "secret" };
  return [
    connectBoard(url, { auth: login }),
    connectBoard(url, { auth: { token: "secret" }, transports: ["websocket"], reconnection: false }),
    connectChat(url),
    connectChat(url, { reconnection: false }),
    connectChat(url, { auth: login }),
  ];
}

/** Misuses: each must be a compile error. */
export async function misuses(board: BoardSocket, chat: ChatSocket, url: string): Promise<void> {
  // --- wrong payload types
  // @ts-expect-error history takes a page number, not a string
  board.emit("history", "2", (page) => void page);
  // @ts-expect-error cursor:move takes a Point, which has no z
  board.emit("cursor:move", { x: 1, y: 2, z: 3 });
  // @ts-expect-error a Point needs both x and y
  board.emit("cursor:move", { x: 1 });
  // @ts-expect-error smooth is a boolean
  board.emit("cursor:move", { x: 1, y: 2 }, "yes");
  // @ts-expect-error binary is Uint8Array | ArrayBuffer, not a string
  board.emit("upload", file, "not bytes", () => {});
  // @ts-expect-error Upload.data is binary, not a number array
  board.emit("upload", { name: "a", data: [1, 2], tags: null }, new Uint8Array(0), () => {});
  // @ts-expect-error Upload.data is required
  board.emit("upload", { name: "a", tags: null }, new Uint8Array(0), () => {});
  // @ts-expect-error Team's color is a Color (or null), when given
  board.emit("pick", 1, { name: "t", color: "green" }, (p) => void p);
  // @ts-expect-error Score.best is always sent by the server: a Score without it is not one
  const noBest: Score = { wins: 1 };
  void noBest;
  // @ts-expect-error Player.team is always sent (null without one)
  const noTeam: Player = { id: 1, score: { wins: 0, best: null } };
  void noTeam;
  // @ts-expect-error say's text is a string
  chat.emit("say", 42, null, null, (r) => void r);
  // @ts-expect-error clear takes no arguments
  board.emit("clear", true);

  // --- wrong enum literal and wrong tagged-union shapes
  // @ts-expect-error Color is "red" | "blue"
  board.emit("draw", circle, "green", (id) => void id);
  // @ts-expect-error Color is lowercase, as serde renames it
  chat.emit("say", "hi", null, "Red", (r) => void r);
  // @ts-expect-error a circle has a center and a radius, not points
  board.emit("draw", { kind: "circle", points: [] }, null, (id) => void id);
  // @ts-expect-error the tag is "polygon", camelCase as serde renames it
  board.emit("draw", { kind: "Polygon", points: [] }, null, (id) => void id);
  // @ts-expect-error a Shape needs its "kind" tag
  board.emit("draw", { center: { x: 0, y: 0 }, radius: 1 }, null, (id) => void id);
  // @ts-expect-error radius is a number
  const badShape: Shape = { kind: "circle", center: { x: 0, y: 0 }, radius: "1" };
  void badShape;

  // --- unknown event names
  // @ts-expect-error no handler "erase" on /board
  board.emit("erase");
  // @ts-expect-error "say" is a /chat event, not a /board one
  board.emit("say", "hi", null, null, () => {});
  // @ts-expect-error the server emits no "erased" on /board
  board.on("erased", () => {});
  // @ts-expect-error "draw" is a client-to-server event; the server never emits it
  board.on("draw", () => {});
  // @ts-expect-error /chat's server emits no events
  chat.on("drawn", () => {});
  // @ts-expect-error unknown events are rejected by emitWithAck too
  await board.emitWithAck("erase");

  // --- missing ack callback where the handler replies
  // @ts-expect-error draw replies with an id: the callback is required
  board.emit("draw", circle, null);
  // @ts-expect-error history replies with a page: the callback is required
  board.emit("history", 1);
  // @ts-expect-error say replies: the callback is required
  chat.emit("say", "hi", null, null);
  // @ts-expect-error pick replies with a player: the callback is required after the team too
  board.emit("pick", 1, null);
  // @ts-expect-error the ack comes last: nothing may follow it
  board.emit("draw", circle, (id: number) => void id, "red");
  // @ts-expect-error pick takes an id and a team, not two teams
  board.emit("pick", 1, null, null, (p) => void p);
  // @ts-expect-error say's at (a Point) comes before its color: a color alone is not an at
  chat.emit("say", "hi", "red", (r) => void r);
  // @ts-expect-error pick needs its id even with the team left out
  await board.emitWithAck("pick");
  // @ts-expect-error the reply type is still checked when the trailing Option is left out
  board.emit("pick", 1, (p: Team) => void p);

  // --- wrong reply types in callbacks and awaited replies
  // @ts-expect-error draw's reply is a number
  board.emit("draw", circle, null, (id: string) => void id);
  // @ts-expect-error history's reply is a Page<Shape>, not a Page<Point>
  board.emit("history", 1, (page: Page<Point>) => void page);
  // @ts-expect-error upload's reply is [string, number]
  board.emit("upload", file, new Uint8Array(0), (reply: [string, string]) => void reply);
  // @ts-expect-error ask's reply may be null
  board.emit("ask", "q", (answer: boolean) => void answer);
  // @ts-expect-error say's reply is { Ok } | { Err }, not a number
  chat.emit("say", "hi", null, null, (n: number) => void n);
  // @ts-expect-error emitWithAck("draw") resolves to a number
  const notString: string = await board.emitWithAck("draw", circle, null);
  void notString;
  // @ts-expect-error with timeout() the callback's first parameter is the Error
  board.timeout(1000).emit("draw", circle, null, (id: number) => void id);

  // --- server event listeners of the wrong arity or types
  // @ts-expect-error user:joined's `at` is a number
  board.on("user:joined", (name: string, at: string) => void [name, at]);
  // @ts-expect-error drawn's second argument is a Color, not a number
  board.on("drawn", (shape: Shape, color: number) => void [shape, color]);
  // @ts-expect-error drawn's first argument is a Shape, not a Point
  board.on("drawn", (at: Point) => void at);
  // @ts-expect-error user:joined has two arguments, not three
  board.on("user:joined", (name: string, at: number, extra: string) => void [name, at, extra]);
  // @ts-expect-error cleared has no arguments
  board.on("cleared", (what: string) => void what);
  // @ts-expect-error confirm's callback answers a boolean
  board.on("confirm", (question, callback) => callback(question));
  // @ts-expect-error confirm's question is a string
  board.on("confirm", (question: number, callback: (reply: boolean) => void) => void [question, callback]);

  // --- connecting
  // @ts-expect-error /board requires the options (its connect handler needs auth)
  connectBoard(url);
  // @ts-expect-error /board requires auth
  connectBoard(url, { reconnection: false });
  // @ts-expect-error a Login needs its token
  connectBoard(url, { auth: { user: "me" } });
  // @ts-expect-error Login's token is a string
  connectBoard(url, { auth: { token: 42 } });
  // @ts-expect-error /chat's optional auth is still a Login
  connectChat(url, { auth: { tokn: "secret" } });
}
