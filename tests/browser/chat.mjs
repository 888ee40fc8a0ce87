// End-to-end test of the chat example in a real browser (headless Chromium driven by
// playwright-core): two people chat, on the default transport and forced to long-polling.
//
// Usage: CHAT_URL=http://127.0.0.1:PORT ARTIFACTS=dir node tests/browser/chat.mjs
// Exits 0 when every check passed; prints one line per check.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const url = process.env.CHAT_URL;
const artifacts = process.env.ARTIFACTS ?? ".";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!url) throw new Error("CHAT_URL is required");
mkdirSync(artifacts, { recursive: true });

const T = 5000;
let checks = 0;
const check = (what) => {
  checks += 1;
  console.log(`ok - ${what}`);
};

const browser = await chromium.launch({
  executablePath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

async function login(page, name, polling) {
  await page.goto(url, { timeout: T });
  await page.fill("#name", name, { timeout: T });
  if (polling) await page.check("#polling", { timeout: T });
  await page.click("#login button", { timeout: T });
  await page.waitForSelector("#app:not([hidden])", { timeout: T });
  await page.waitForSelector("text=You joined #lobby", { timeout: T });
}

async function scenario(mode) {
  const polling = mode === "polling";
  const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
  const ann = await context.newPage();
  const bob = await context.newPage();
  const errors = [];
  for (const p of [ann, bob]) p.on("pageerror", (e) => errors.push(e.message));
  const a = `ann-${mode}`;
  const b = `bob-${mode}`;
  await login(ann, a, polling);
  await login(bob, b, polling);
  check(`${mode}: both joined #lobby`);

  // The transport the page reports: websocket after the upgrade, or polling when forced.
  const expected = polling ? "polling" : "websocket";
  await ann.waitForFunction((t) => document.querySelector("#transport")?.textContent === t, expected, { timeout: T });
  check(`${mode}: page shows transport ${expected}`);

  await bob.waitForSelector(`#members li:has-text("${a}")`, { timeout: T });
  check(`${mode}: members list shows the other person`);

  await ann.type("#text", "hello from ann", { delay: 5 });
  await bob.waitForSelector(`text=${a} is typing`, { timeout: T });
  check(`${mode}: typing indicator reached the other page`);

  await ann.click("#send", { timeout: T });
  await bob.waitForSelector("text=hello from ann", { timeout: T });
  check(`${mode}: message delivered to the other page`);
  await ann.waitForFunction(() => document.querySelector(".msg.mine .tick")?.textContent === "✓", null, { timeout: T });
  check(`${mode}: sender sees the delivery tick`);

  await bob.screenshot({ path: join(artifacts, `chat-${mode}.png`) });
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  await context.close();
}

try {
  await scenario("websocket");
  await scenario("polling");
  console.log(`browser chat: ${checks} checks passed`);
} finally {
  await browser.close();
}
