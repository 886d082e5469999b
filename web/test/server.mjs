// The real `flaneur serve` for the browser test: found (or built) like the Rust tests find it,
// started on a free loopback port with a fresh data folder and the front-end build, and fed
// pictures through the upload API as any client would.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");

/** The `flaneur` binary: FLANEUR_BIN, else a build in the target folder, else built now. */
export function findBinary() {
  if (process.env.FLANEUR_BIN) {
    return process.env.FLANEUR_BIN;
  }
  const target = process.env.CARGO_TARGET_DIR || join(cache, "flaneur", "target");
  for (const profile of ["debug", "release"]) {
    const binary = join(target, profile, "flaneur");
    if (existsSync(binary)) {
      return binary;
    }
  }
  const build = spawnSync("cargo", ["build", "--bin", "flaneur"], {
    cwd: repo,
    stdio: "inherit",
    env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  if (build.status !== 0) {
    throw new Error("cargo build --bin flaneur failed");
  }
  return join(target, "debug", "flaneur");
}

/** The shared real pictures (`scripts/fetch-testdata.sh`). */
export function picturesDir() {
  const root = process.env.FLANEUR_TESTDATA || join(cache, "flaneur", "testdata");
  const dir = join(root, "pictures");
  if (!existsSync(join(dir, "1.jpg")) || !existsSync(join(dir, "e1.jpg"))) {
    throw new Error(`test pictures not found in ${dir}: run scripts/fetch-testdata.sh`);
  }
  return dir;
}

/**
 * `flaneur <args>` on a data folder, that of a running server or one about to be served;
 * answers what it printed, and throws with its errors when it fails.
 */
export function flaneurCommand(dataDir, args) {
  const run = spawnSync(findBinary(), [...args, "--data-dir", dataDir], {
    encoding: "utf8",
    env: { ...process.env, RUST_LOG: "warn" },
  });
  if (run.status !== 0) {
    throw new Error(`flaneur ${args.join(" ")} failed: ${run.stdout}${run.stderr}`);
  }
  return run.stdout.trim();
}

/**
 * `flaneur account <args>` on the data folder of a running server (accounts, roles, tokens);
 * answers what it printed.
 */
export function accountCommand(dataDir, args) {
  return flaneurCommand(dataDir, ["account", ...args]);
}

/** A fresh data folder for a server, removed by its `stop()`. */
export function newDataDir() {
  return mkdtempSync(join(tmpdir(), "flaneur-web-test-"));
}

/**
 * A running server; `stop()` ends it and removes its data folder, `dataDir` when given (made
 * by `newDataDir`), else a new one. `env` adds variables.
 */
export async function startServer({ webDir, startMs, env = {}, dataDir = newDataDir() }) {
  const child = spawn(
    findBinary(),
    ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--web-dir", webDir,
      "--workers", "2", "--log-format", "json"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: "info,sqlx=warn", ...env },
    },
  );
  const logs = [];
  const address = new Promise((resolveAddress, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no address from flaneur serve in ${startMs} ms:\n${logs.join("\n")}`)),
      startMs,
    );
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`flaneur serve exited with ${code}:\n${logs.join("\n")}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        logs.push(line);
        try {
          const listen = JSON.parse(line)?.fields?.listen;
          if (listen) {
            clearTimeout(timer);
            resolveAddress(listen);
          }
        } catch {
          // Not a JSON log line: kept in the logs only.
        }
      });
    }
  });
  const stop = () => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const origin = `http://${await address}`;
    return { origin, api: `${origin}/api`, dataDir, logs, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function json(response, what) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(`${what}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}

/**
 * Uploads pictures in one upload set and waits until its sequences are ready; with `token`,
 * as the account holding this API token, else anonymously.
 */
export async function uploadAndWait(api, title, files, readyMs, token) {
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  const set = await json(
    await fetch(`${api}/upload_sets`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...auth },
      body: JSON.stringify({ title }),
    }),
    "creating an upload set",
  );
  for (const file of files) {
    const form = new FormData();
    form.append("file", new Blob([readFileSync(file)], { type: "image/jpeg" }), basename(file));
    await json(
      await fetch(`${api}/upload_sets/${set.id}/files`, {
        method: "POST",
        headers: auth,
        body: form,
      }),
      `uploading ${file}`,
    );
  }
  await json(
    await fetch(`${api}/upload_sets/${set.id}/complete`, { method: "POST", headers: auth }),
    "completing the upload set",
  );
  const deadline = Date.now() + readyMs;
  for (;;) {
    const state = await json(
      await fetch(`${api}/upload_sets/${set.id}`, { headers: auth }),
      "upload set state",
    );
    if (state.ready) {
      return state;
    }
    if (Date.now() > deadline) {
      throw new Error(`upload set not ready after ${readyMs} ms: ${JSON.stringify(state)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
