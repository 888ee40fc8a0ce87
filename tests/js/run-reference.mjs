// Runs the interop suite against the Node reference server in the three
// transport modes, the way the Rust harness runs it against the Rust server.
//
// Usage: node run-reference.mjs [modes...]   (default: websocket polling polling,websocket)
// SIO_PARSER=msgpack runs it with socket.io-msgpack-parser on both ends.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const modes = process.argv.length > 2 ? process.argv.slice(2) : ["websocket", "polling", "polling,websocket"];

function startServer() {
  const child = spawn(process.execPath, [join(here, "reference-server.mjs"), "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("reference server did not start")), 10000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`reference server exited (${code})`)));
  });
}

let failed = false;
for (const mode of modes) {
  // A fresh server per mode, like the Rust harness.
  const { child, url } = await startServer();
  console.log(`\n=== SIO_TRANSPORTS=${mode} SIO_PARSER=${process.env.SIO_PARSER || "json"} against ${url} ===`);
  const run = spawn(
    process.execPath,
    ["--test", "--test-concurrency=1", join(here, "interop") + "/"],
    { stdio: "inherit", env: { ...process.env, SIO_URL: url, SIO_TRANSPORTS: mode } },
  );
  const [code] = await once(run, "exit");
  if (code !== 0) failed = true;
  child.kill("SIGTERM");
  await once(child, "exit");
}
process.exit(failed ? 1 : 0);
