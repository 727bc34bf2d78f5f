// logcheck_node.js runs static/js/logcheck.js in Node for
// TestLogCheckJS: node logcheck_node.js LOGCHECK.js CASES.json prints one
// JSON result per case, in order, as a JSON array. Each case is
// {op, ...}: consistency, note, root, checkpoint or sizes.
"use strict";
const fs = require("fs");
const vm = require("vm");

const source = fs.readFileSync(process.argv[2], "utf8");
vm.runInThisContext(source, { filename: "logcheck.js" });
const L = globalThis.SlipwayLogCheck;
const cases = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));

function logAt(base) {
  return new L.Log({
    checkpoint: base + "/log/checkpoint",
    key: base + "/api/v1/log/key",
    consistency: base + "/api/v1/log/consistency",
    tiles: base + "/log/",
  });
}

async function run(c) {
  try {
    switch (c.op) {
      case "consistency": {
        const proof = c.proof.map((h) => L.fromBase64(h, "hash"));
        await L.verifyConsistency(BigInt(c.size1), BigInt(c.size2), proof, L.fromBase64(c.root1, "root1"), L.fromBase64(c.root2, "root2"));
        return { ok: true };
      }
      case "note": {
        const key = await L.parseVerifierKey(c.key);
        const checked = await L.verifyNote(L.parseCheckpoint(c.checkpoint), key);
        return { ok: true, checked };
      }
      case "root": {
        const log = logAt(c.base);
        const latest = await log.latest();
        const root = await L.treeRoot(BigInt(c.size), latest.size, (p) => log.tile(p));
        return { ok: true, root: L.toBase64(root) };
      }
      case "checkpoint":
        return await L.checkCheckpoint(logAt(c.base), c.text);
      case "sizes":
        return await L.checkSizes(logAt(c.base), c.from, c.to);
      case "insecure": {
        // A page on plain HTTP (not localhost): the browser has no crypto.subtle.
        const ctx = vm.createContext({ atob, btoa, TextEncoder, fetch, JSON, Uint8Array, BigInt, Array, String, Number, Promise });
        vm.runInContext(source, ctx, { filename: "logcheck.js" });
        const I = ctx.SlipwayLogCheck;
        const log = new I.Log({ checkpoint: c.base + "/log/checkpoint", key: c.base + "/api/v1/log/key", consistency: c.base + "/api/v1/log/consistency", tiles: c.base + "/log/" });
        return await I.checkCheckpoint(log, c.text);
      }
      default:
        return { ok: false, reason: "unknown op " + c.op };
    }
  } catch (e) {
    if (e instanceof L.CheckError) return { ok: false, reason: e.message };
    return { ok: false, crash: String(e && e.stack) };
  }
}

(async () => {
  const out = [];
  for (const c of cases) out.push(await run(c));
  process.stdout.write(JSON.stringify(out));
})();
