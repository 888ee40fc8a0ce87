// The chat page. Every event name, payload and ack below is checked by the TypeScript compiler
// against ./sio.ts, which sio-typegen renders from the Rust server (examples/src/chat.rs).
import { connectChat, emitWithTimeout, type ChatSocket, type Message, type RoomInfo } from "./sio.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};

let socket: ChatSocket | null = null;

let me = "";
let current: string | null = null;
let typingTimer: ReturnType<typeof setTimeout> | undefined;
let lastTyping = 0;

function setState(text: string, on: boolean): void {
  $("state").textContent = text;
  $("dot").classList.toggle("on", on);
}

function setTransport(): void {
  $("transport").textContent = socket?.io.engine?.transport.name ?? "–";
}

function addMessage(m: Pick<Message, "name" | "text" | "ts">, mine: boolean, pending: boolean): HTMLElement {
  const div = document.createElement("div");
  div.className = "msg" + (mine ? " mine" : "");
  const meta = document.createElement("div");
  meta.className = "meta";
  const who = document.createElement("span");
  who.textContent = `${m.name} · ${new Date(m.ts).toLocaleTimeString()}`;
  meta.append(who);
  if (mine) {
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.textContent = pending ? "…" : "✓";
    meta.append(tick);
  }
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = m.text;
  div.append(meta, text);
  const list = $("messages");
  list.append(div);
  list.scrollTop = list.scrollHeight;
  return div;
}

function notice(text: string): void {
  const div = document.createElement("div");
  div.className = "notice";
  div.textContent = text;
  $("messages").append(div);
}

function renderRooms(rooms: RoomInfo[]): void {
  const ul = $("rooms");
  ul.replaceChildren();
  for (const { room, members } of rooms) {
    const li = document.createElement("li");
    li.dataset["room"] = room;
    li.className = room === current ? "active" : "";
    const name = document.createElement("span");
    name.textContent = room;
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = String(members);
    li.append(name, count);
    li.onclick = () => void enter(room);
    ul.append(li);
  }
}

async function refreshMembers(): Promise<void> {
  if (!socket || !current) return;
  const names = await emitWithTimeout(socket, 3000, "members", current).catch((): string[] => []);
  const ul = $("members");
  ul.replaceChildren(
    ...names.map((n) => {
      const li = document.createElement("li");
      li.textContent = n;
      return li;
    }),
  );
}

async function enter(room: string): Promise<void> {
  if (!socket || current === room) return;
  if (current) socket.emit("leave", current);
  current = room;
  $("messages").replaceChildren();
  const history = await emitWithTimeout(socket, 5000, "join", room).catch((): Message[] => []);
  notice(`You joined #${room}`);
  for (const m of history) addMessage(m, m.name === me, false);
  document.querySelectorAll<HTMLElement>("#rooms li").forEach((li) => {
    li.classList.toggle("active", li.dataset["room"] === room);
  });
  await refreshMembers();
}

function connect(name: string, pollingOnly: boolean): void {
  me = name;
  const s = connectChat("", { auth: { name }, transports: pollingOnly ? ["polling"] : ["polling", "websocket"] });
  socket = s;
  s.on("connect", () => {
    setState("connected", true);
    setTransport();
    $("login").hidden = true;
    $("app").hidden = false;
    $("me").textContent = `as ${name}`;
    const room = current ?? "lobby";
    current = null;
    void enter(room);
  });
  s.io.on("open", () => {
    setTransport();
    s.io.engine.on("upgrade", setTransport);
  });
  s.io.on("reconnect_attempt", () => setState("reconnecting…", false));
  s.on("disconnect", (reason) => {
    setState(`disconnected (${reason})`, false);
    $("transport").textContent = "–";
  });
  s.on("connect_error", (err) => {
    $("login-error").textContent = err.message;
    if (!s.active) {
      socket = null;
      $("login").hidden = false;
      $("app").hidden = true;
    }
  });
  s.on("rooms", renderRooms);
  s.on("message", (m) => {
    if (m.room !== current) return;
    addMessage(m, false, false);
    $("typing").textContent = "";
  });
  s.on("user-joined", (room, who) => {
    if (room !== current) return;
    notice(`${who} joined`);
    void refreshMembers();
  });
  s.on("user-left", (room, who) => {
    if (room !== current) return;
    notice(`${who} left`);
    void refreshMembers();
  });
  s.on("typing", (room, who) => {
    if (room !== current) return;
    $("typing").textContent = `${who} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      $("typing").textContent = "";
    }, 2000);
  });
}

$("login").onsubmit = (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  connect($<HTMLInputElement>("name").value, $<HTMLInputElement>("polling").checked);
};

$("join-form").onsubmit = (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("new-room");
  const room = input.value.trim();
  input.value = "";
  if (room) void enter(room);
};

$("text").oninput = () => {
  const now = Date.now();
  if (socket && current && now - lastTyping > 500) {
    lastTyping = now;
    socket.emit("typing", current);
  }
};

$("send-form").onsubmit = async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value;
  if (!socket || !current || !text.trim()) return;
  input.value = "";
  const el = addMessage({ name: me, text, ts: Date.now() }, true, true);
  const tick = el.querySelector(".tick");
  try {
    const delivered = await emitWithTimeout(socket, 5000, "msg", { room: current, text });
    if (!delivered) throw new Error("refused");
    el.dataset["id"] = String(delivered.id);
    if (tick) tick.textContent = "✓";
  } catch {
    if (tick) tick.textContent = "✗";
  }
};

const params = new URLSearchParams(location.search);
const preset = params.get("name");
if (preset) {
  $<HTMLInputElement>("name").value = preset;
  $<HTMLInputElement>("polling").checked = params.get("transport") === "polling";
}
