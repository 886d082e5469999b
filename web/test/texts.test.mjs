// The front-end's sources read as text, without a browser: a placeholder such as `${NBSP}` only
// takes its value in a template literal, so one written in a quoted string would be shown as is.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const app = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "app");

test("no quoted string holds a template placeholder", () => {
  // A quoted string on one line, outside any template literal, with `${` in it.
  const quoted = /(^|[^`\w])(["'])(?:(?!\2)[^\\`]|\\.)*\$\{[^}]*\}(?:(?!\2)[^\\`]|\\.)*\2/;
  const found = [];
  for (const name of readdirSync(app).filter((n) => n.endsWith(".js"))) {
    const lines = readFileSync(join(app, name), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.includes("`") || !quoted.test(line)) return;
      found.push(`${name}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});
