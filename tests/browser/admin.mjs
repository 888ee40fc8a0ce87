// The official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1's ui/dist, from tests/node_modules,
// served here on its own origin) watching a server, in headless Chromium (playwright-core).
// The same script runs against sio and against Node's instrument(), so the checks are honest.
//
// Usage: SERVER_URL=http://127.0.0.1:PORT PASSWORD=changeit [READONLY=1] [NAME=sio]
//        ARTIFACTS=dir node tests/browser/admin.mjs
// The server has the interop handlers on "/" ("join" acks true) and the Admin UI on /admin
// with user "admin". Prints one line per check, then "admin ui: N checks passed".
import { chromium } from "playwright-core";
import { io } from "socket.io-client";
import { createServer } from "node:http";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const serverUrl = process.env.SERVER_URL;
const password = process.env.PASSWORD;
const readonly = process.env.READONLY === "1";
const name = process.env.NAME ?? "server";
const artifacts = process.env.ARTIFACTS ?? ".";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!serverUrl || !password) throw new Error("SERVER_URL and PASSWORD are required");
mkdirSync(artifacts, { recursive: true });
const shot = (page, what) => page.screenshot({ path: join(artifacts, `admin-${name}${readonly ? "-readonly" : ""}-${what}.png`) });

const T = 10000;
let checks = 0;
const check = (what) => {
  checks += 1;
  console.log(`ok - ${what}`);
};
const fail = (what) => {
  throw new Error(what);
};

// The UI's static files, on an origin of their own (as https://admin.socket.io would be).
const dist = join(dirname(fileURLToPath(import.meta.url)), "../node_modules/@socket.io/admin-ui/ui/dist");
if (!existsSync(join(dist, "index.html"))) fail(`${dist} is missing: run npm ci --prefix tests`);
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml" };
const ui = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(dist, path === "/" ? "index.html" : path);
  if (!file.startsWith(dist) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
});
await new Promise((r) => ui.listen(0, "127.0.0.1", r));
const uiUrl = `http://127.0.0.1:${ui.address().port}/`;

// The watched clients: two on WebSocket, one on long-polling; one joins room "vip".
const clients = [];
for (const transports of [["websocket"], ["websocket"], ["polling"]]) {
  const s = io(serverUrl, { transports, reconnection: false, forceNew: true });
  await new Promise((ok, ko) => {
    s.once("connect", ok);
    s.once("connect_error", ko);
  });
  s.reasons = [];
  s.on("disconnect", (r) => s.reasons.push(r));
  clients.push(s);
}
await clients[0].timeout(T).emitWithAck("join", "vip");
check(`${name}: 3 clients connected, one in room vip`);

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
// The UI pulls fonts and icons from CDNs: unreachable here, and not needed.
await page.route(/googleapis|gstatic|jsdelivr/, (r) => r.abort());

async function login(pw) {
  await page.goto(uiUrl, { waitUntil: "domcontentloaded", timeout: T });
  const dialog = page.locator(".v-dialog--active");
  await dialog.waitFor({ timeout: T });
  await page.getByLabel("Server URL").fill(serverUrl);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(pw);
  await page.getByRole("button", { name: "Connect" }).click();
}

// A wrong password is refused, with the UI's message.
await login("not-the-password");
await page.locator(".v-dialog--active .red--text", { hasText: "Invalid credentials" }).waitFor({ timeout: T });
await shot(page, "refused");
check(`${name}: a wrong password is refused ("Invalid credentials")`);

// The right one: the dialog closes.
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Connect" }).click();
await page.locator(".v-dialog--active").waitFor({ state: "detached", timeout: T });
check(`${name}: logged in`);

// Dashboard: the namespaces card counts 3 sockets in "/" (from the 2 s server_stats).
const nsRow = page.locator("tr", { has: page.locator("td", { hasText: /^\/$/ }) });
await nsRow.filter({ hasText: /\b3\b/ }).first().waitFor({ timeout: T });
await shot(page, "dashboard");
check(`${name}: the dashboard counts 3 sockets in /`);

// Servers: one row, healthy.
await page.goto(`${uiUrl}#/servers/`, { waitUntil: "domcontentloaded" }).catch(() => {});
await page.locator("tbody tr", { hasText: /healthy/i }).first().waitFor({ timeout: T });
check(`${name}: the servers page lists this server as healthy`);

// Sockets: every client listed, with its transport.
await page.locator("nav").getByText("Sockets").click();
for (const c of clients) {
  await page.locator("tbody tr", { hasText: c.id }).waitFor({ timeout: T });
}
await page.locator("tbody tr", { hasText: clients[2].id }).filter({ hasText: /long-polling/i }).waitFor({ timeout: T });
await shot(page, "sockets");
check(`${name}: the sockets page lists the 3 clients (one on long-polling)`);

// Rooms: "vip" with one socket.
await page.locator("nav").getByText("Rooms").click();
await page.locator("tbody tr", { hasText: "vip" }).waitFor({ timeout: T });
check(`${name}: the rooms page lists room vip`);

await page.locator("nav").getByText("Sockets").click();
const target = clients[1];
const button = page.locator(`tbody tr:has-text("${target.id}") button:has(i.mdi-logout)`);
if (readonly) {
  // No action is offered, and an action sent anyway does nothing.
  await page.locator("tbody tr", { hasText: target.id }).waitFor({ timeout: T });
  if ((await button.count()) !== 0) fail("read-only: a disconnect button is shown");
  check(`${name}: read-only: no disconnect button`);
  const admin = io(`${serverUrl}/admin`, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: { username: "admin", password },
  });
  await new Promise((ok, ko) => {
    admin.once("connect", ok);
    admin.once("connect_error", ko);
  });
  admin.emit("_disconnect", "/", false, target.id);
  // The next stats (2 s) still count 3 sockets in "/".
  const stats = await new Promise((ok) => admin.on("server_stats", (s) => ok(s)));
  const root = stats.namespaces.find((n) => n.name === "/");
  if (root?.socketsCount !== 3 || !target.connected) fail(`read-only: the action ran (${JSON.stringify(root)})`);
  admin.close();
  check(`${name}: read-only: a _disconnect sent anyway is ignored`);
} else {
  // Disconnect one client from the UI: it leaves the list and the client is told.
  await button.click({ timeout: T });
  const deadline = Date.now() + T;
  while (target.reasons.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (target.reasons[0] !== "io server disconnect") fail(`the client saw ${JSON.stringify(target.reasons)}`);
  // (The click also opens the socket's page, which now says "disconnected".)
  await page.locator("nav").getByText("Sockets").click();
  // (Page transitions fade: both pages are in the DOM for a moment.)
  await page.waitForFunction(
    ([gone, stays]) => {
      const rows = [...document.querySelectorAll("tbody tr")].map((tr) => tr.textContent);
      return rows.some((t) => t.includes(stays)) && !rows.some((t) => t.includes(gone));
    },
    [target.id, clients[0].id],
    { timeout: T },
  );
  await shot(page, "disconnected");
  check(`${name}: "disconnect" in the UI disconnected that client (io server disconnect)`);
}

if (errors.length) fail(`page errors: ${errors.join("; ")}`);
for (const c of clients) c.close();
await browser.close();
ui.close();
console.log(`admin ui: ${checks} checks passed`);
process.exit(0);
