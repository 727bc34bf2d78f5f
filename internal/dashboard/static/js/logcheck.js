// logcheck.js: the log page's consistency check, run in the browser.
//
// It checks that the log's latest signed checkpoint extends an older tree:
// either a checkpoint the person kept (a signed note, or a receipt, which
// carries one) or a tree size whose root it computes from the log's tiles.
// Everything is checked here with WebCrypto, trusting nothing the server
// computed: the checkpoints' Ed25519 signatures under the log's note key
// (C2SP signed-note; when the browser has Ed25519 in WebCrypto), and the
// RFC 9162 (RFC 6962) consistency proof between the two roots.
//
// It is loaded with <script src> (the dashboard's CSP allows no inline
// script), never evaluates text it fetched, and writes results with
// textContent only. In Node (the tests) it exports the same functions as
// globalThis.SlipwayLogCheck without touching a document.
(function (root) {
  "use strict";

  const subtle = root.crypto && root.crypto.subtle;
  const utf8 = new TextEncoder();

  // CheckError is a failed check: its message says what did not hold.
  class CheckError extends Error {}

  function fail(msg) {
    throw new CheckError(msg);
  }

  // fromBase64 decodes standard base64 (with padding), failing on anything else.
  function fromBase64(s, what) {
    if (typeof s !== "string" || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
      fail(what + " is not base64");
    }
    const bin = root.atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function toBase64(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return root.btoa(s);
  }

  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  async function sha256(bytes) {
    if (!subtle) {
      fail("this browser offers no WebCrypto here: it does so only on HTTPS pages (or localhost); open the dashboard over HTTPS");
    }
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  // RFC 6962 section 2.1: leaves and interior nodes are hashed apart.
  const LEAF = Uint8Array.of(0), NODE = Uint8Array.of(1);
  function hashLeaf(data) {
    return sha256(concat(LEAF, data));
  }
  function hashChildren(l, r) {
    return sha256(concat(NODE, l, r));
  }

  // parseSize reads a tree size: a decimal whole number, as a BigInt.
  function parseSize(s, what) {
    if (typeof s === "bigint") return s;
    s = String(s).trim();
    if (!/^(0|[1-9][0-9]{0,19})$/.test(s) || BigInt(s) >= 1n << 64n) {
      fail(what + " " + JSON.stringify(s) + " is not a tree size (a whole number)");
    }
    return BigInt(s);
  }

  // normalizeNote turns pasted text into a signed note: LF line ends,
  // no surrounding blank space, one final newline. A receipt
  // (c2sp.org/tlog-proof@v1) gives the checkpoint it carries.
  function normalizeNote(text) {
    text = String(text).replace(/\r\n?/g, "\n").trim() + "\n";
    if (text.startsWith("c2sp.org/tlog-proof@v1\n")) {
      const i = text.indexOf("\n\n");
      if (i < 0) fail("the receipt has no checkpoint after its proof");
      text = text.slice(i + 2);
    }
    return text;
  }

  // parseCheckpoint reads a C2SP tlog-checkpoint signed note: the text
  // (origin, tree size, base64 root hash, optional extension lines), a blank
  // line, then signature lines "— NAME BASE64(keyhash[4] || signature)".
  function parseCheckpoint(raw) {
    const note = normalizeNote(raw);
    const split = note.lastIndexOf("\n\n");
    if (split < 0) fail("the checkpoint has no signature lines (a signed note ends with a blank line and lines starting with \u2014)");
    const text = note.slice(0, split + 1);
    const lines = text.split("\n").slice(0, -1);
    if (lines.length < 3) fail("the checkpoint's text has " + lines.length + " lines; a checkpoint has origin, tree size and root hash");
    const [origin, sizeLine, rootLine] = lines;
    if (origin === "") fail("the checkpoint has no origin on its first line");
    const size = parseSize(sizeLine, "the checkpoint's second line");
    const rootHash = fromBase64(rootLine, "the checkpoint's root hash");
    if (rootHash.length !== 32) fail("the checkpoint's root hash has " + rootHash.length + " bytes, not 32");
    const sigs = [];
    for (const line of note.slice(split + 2).split("\n").slice(0, -1)) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) fail("the checkpoint's signature line " + JSON.stringify(line.slice(0, 80)) + " is not \u201c\u2014 NAME SIGNATURE\u201d");
      const sig = fromBase64(m[2], "the signature of " + JSON.stringify(m[1]));
      if (sig.length < 5) fail("the signature of " + JSON.stringify(m[1]) + " is too short");
      sigs.push({ name: m[1], keyHash: sig.slice(0, 4), sig: sig.slice(4) });
    }
    if (sigs.length === 0) fail("the checkpoint has no signature lines");
    return { origin, size, root: rootHash, text, sigs, note };
  }

  // keyHash is a note key's id: the first 4 bytes of
  // SHA-256(name || "\n" || key), key being the algorithm byte and the key.
  async function keyHash(name, key) {
    return (await sha256(concat(utf8.encode(name + "\n"), key))).slice(0, 4);
  }

  // parseVerifierKey reads a note verifier key "NAME+HASH+BASE64", the line
  // GET /api/v1/log/key answers; only Ed25519 keys (algorithm 1).
  async function parseVerifierKey(line) {
    const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(String(line).trim());
    if (!m) fail("the log key " + JSON.stringify(String(line).slice(0, 120)) + " is not a note verifier key (NAME+HASH+BASE64)");
    const key = fromBase64(m[3], "the log key");
    if (key.length !== 33 || key[0] !== 1) fail("the log key is not an Ed25519 note key");
    const id = await keyHash(m[1], key);
    const want = Uint8Array.from(m[2].match(/../g), (h) => parseInt(h, 16));
    if (!equal(id, want)) fail("the log key's hash " + m[2] + " does not match its name and key");
    return { name: m[1], hash: id, publicKey: key.slice(1) };
  }

  // ed25519 imports the key, or returns null when WebCrypto has no Ed25519.
  async function ed25519(publicKey) {
    try {
      return await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      if (e && (e.name === "NotSupportedError" || e.name === "SyntaxError" || e.name === "TypeError")) return null;
      throw e;
    }
  }

  // verifyNote checks the checkpoint's signature under the log key: its
  // origin must be the key's name, and a signature line with the key's
  // name and hash must verify over the note's text. It returns true when
  // checked, false when this browser cannot check Ed25519.
  async function verifyNote(cp, key) {
    if (cp.origin !== key.name) {
      fail("the checkpoint is of log " + JSON.stringify(cp.origin) + ", not of this log (" + JSON.stringify(key.name) + ")");
    }
    const mine = cp.sigs.filter((s) => s.name === key.name && equal(s.keyHash, key.hash));
    if (mine.length === 0) fail("the checkpoint carries no signature by the log's key " + JSON.stringify(key.name));
    const k = await ed25519(key.publicKey);
    if (k === null) return false;
    for (const s of mine) {
      if (s.sig.length === 64 && (await subtle.verify({ name: "Ed25519" }, k, s.sig, utf8.encode(cp.text)))) return true;
    }
    fail("the checkpoint's signature by " + JSON.stringify(key.name) + " does not verify: its text was changed, or it was not signed by this log's key");
  }

  // verifyConsistency checks an RFC 9162 section 2.1.4.2 consistency proof
  // that the tree of size2 with root2 extends the tree of size1 with root1.
  // Sizes are BigInts, hashes Uint8Arrays. It throws CheckError when the
  // proof does not hold.
  async function verifyConsistency(size1, size2, proof, root1, root2) {
    if (size2 < size1) fail("the newer tree (size " + size2 + ") is smaller than the older (size " + size1 + "): the log went back");
    if (size1 === size2) {
      if (proof.length !== 0) fail("the trees are the same size, but the proof is not empty");
      if (!equal(root1, root2)) fail("the two checkpoints have the same size " + size1 + " and different root hashes: the log forked");
      return;
    }
    if (size1 === 0n) {
      if (proof.length !== 0) fail("the older tree is empty, but the proof is not");
      return;
    }
    if (proof.length === 0) fail("the proof is empty");
    for (const h of proof) if (h.length !== 32) fail("a proof hash has " + h.length + " bytes, not 32");
    const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : proof.slice();
    let fn = size1 - 1n, sn = size2 - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) fail("the proof has more hashes than trees of sizes " + size1 + " and " + size2 + " need");
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await hashChildren(c, fr);
        sr = await hashChildren(c, sr);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        sr = await hashChildren(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) fail("the proof has fewer hashes than trees of sizes " + size1 + " and " + size2 + " need");
    if (!equal(fr, root1)) fail("the proof does not lead to the older root hash: the tree of size " + size1 + " is not the one the log has now");
    if (!equal(sr, root2)) fail("the proof does not lead to the newer root hash: the log's tree of size " + size2 + " does not extend the older tree");
  }

  // tilePath is the C2SP tlog-tiles path of tile index at level, partial
  // with width hashes when width is under 256.
  function tilePath(level, index, width) {
    let n = index.toString().padStart(3, "0");
    const groups = [];
    while (n.length > 3) {
      groups.unshift(n.slice(-3));
      n = n.slice(0, -3);
    }
    groups.unshift(n.padStart(3, "0"));
    const p = groups.map((g, i) => (i < groups.length - 1 ? "x" + g : g)).join("/");
    return "tile/" + level + "/" + p + (width < 256n ? ".p/" + width : "");
  }

  // subtreeHash computes the hash of the complete subtree at tree level k,
  // index j (2^k leaves from j*2^k) from the log's tiles, as published for a
  // tree of size latest (which must contain the subtree). fetchTile(path)
  // answers a tile's bytes, or null when there is no such file.
  async function subtreeHash(k, j, latest, fetchTile) {
    const level = k >> 3n, r = k & 7n;
    const first = j << r; // the subtree's first node at level 8*level
    const index = first >> 8n;
    const count = latest >> (8n * level); // nodes at level 8*level in the latest tree
    const width = count - index * 256n >= 256n ? 256n : count - index * 256n;
    let tile = await fetchTile(tilePath(level, index, width));
    if (tile === null && width < 256n) tile = await fetchTile(tilePath(level, index, 256n));
    if (tile === null) fail("the log has no tile " + tilePath(level, index, width));
    const off = Number(first - index * 256n), n = 1 << Number(r);
    if (tile.length % 32 !== 0 || tile.length < (off + n) * 32) fail("tile " + tilePath(level, index, width) + " is " + tile.length + " bytes, too short for the tree");
    let hashes = [];
    for (let i = off; i < off + n; i++) hashes.push(tile.slice(i * 32, i * 32 + 32));
    while (hashes.length > 1) {
      const up = [];
      for (let i = 0; i < hashes.length; i += 2) up.push(await hashChildren(hashes[i], hashes[i + 1]));
      hashes = up;
    }
    return hashes[0];
  }

  // treeRoot computes the RFC 6962 root hash of the log's tree of size from
  // its tiles (as published for a tree of size latest >= size).
  async function treeRoot(size, latest, fetchTile) {
    if (size > latest) fail("tree size " + size + " is beyond the log's latest checkpoint (size " + latest + ")");
    if (size === 0n) return sha256(new Uint8Array(0));
    const nodes = [];
    let start = 0n;
    for (let k = 63n; k >= 0n; k--) {
      if ((size >> k) & 1n) {
        nodes.push(await subtreeHash(k, start >> k, latest, fetchTile));
        start += 1n << k;
      }
    }
    let h = nodes[nodes.length - 1];
    for (let i = nodes.length - 2; i >= 0; i--) h = await hashChildren(nodes[i], h);
    return h;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Log reaches the log's public endpoints; fetch is the window's or Node's.
  class Log {
    constructor(urls, fetchFn) {
      this.urls = urls; // {checkpoint, key, consistency, tiles}
      this.fetch = fetchFn || root.fetch.bind(root);
    }
    async get(url, what) {
      let resp;
      try {
        resp = await this.fetch(url, { cache: "no-store", credentials: "same-origin" });
      } catch (e) {
        fail("fetching " + what + " failed: " + e.message);
      }
      return resp;
    }
    async text(url, what) {
      const resp = await this.get(url, what);
      if (!resp.ok) fail("fetching " + what + ": the server answered " + resp.status);
      return resp.text();
    }
    async key() {
      return parseVerifierKey(await this.text(this.urls.key, "the log's key"));
    }
    async latest() {
      return parseCheckpoint(await this.text(this.urls.checkpoint, "the latest checkpoint"));
    }
    async consistency(from, to) {
      const u = this.urls.consistency + "?from=" + from + "&to=" + to;
      const resp = await this.get(u, "the consistency proof");
      const body = await resp.text();
      if (!resp.ok) {
        let detail = "";
        try {
          detail = JSON.parse(body).detail || "";
        } catch (e) {
          detail = "";
        }
        fail("fetching the consistency proof from " + from + " to " + to + ": the server answered " + resp.status + (detail ? ": " + detail : ""));
      }
      let ans;
      try {
        ans = JSON.parse(body);
      } catch (e) {
        fail("the consistency proof is not JSON");
      }
      if (!ans || !Array.isArray(ans.hashes) || String(ans.from) !== String(from) || String(ans.to) !== String(to)) {
        fail("the consistency proof answer is not for sizes " + from + " to " + to);
      }
      return ans.hashes.map((h, i) => fromBase64(h, "proof hash " + i));
    }
    async tile(path) {
      const resp = await this.get(this.urls.tiles + path, "tile " + path);
      if (resp.status === 404) return null;
      if (!resp.ok) fail("fetching tile " + path + ": the server answered " + resp.status);
      return new Uint8Array(await resp.arrayBuffer());
    }
  }

  // Result is a check's outcome: ok, and the steps taken (each a line).
  function signatureStep(what, cp, checked) {
    return checked
      ? what + " (size " + cp.size + ") is signed by the log's key " + cp.origin + " (Ed25519 checked in this browser)"
      : what + " (size " + cp.size + ") names the log's key, but this browser has no Ed25519 in WebCrypto: its signature was NOT checked";
  }

  // checkCheckpoint checks that the log's latest checkpoint extends the
  // older checkpoint text oldText (a signed note or a receipt).
  async function checkCheckpoint(log, oldText) {
    const steps = [];
    try {
      const old = parseCheckpoint(oldText);
      const key = await log.key();
      steps.push(signatureStep("The older checkpoint", old, await verifyNote(old, key)));
      const latest = await log.latest();
      steps.push(signatureStep("The latest checkpoint", latest, await verifyNote(latest, key)));
      if (latest.size < old.size) fail("the latest checkpoint (size " + latest.size + ") is older than yours (size " + old.size + "): the log went back");
      const proof = old.size === latest.size || old.size === 0n ? [] : await log.consistency(old.size, latest.size);
      await verifyConsistency(old.size, latest.size, proof, old.root, latest.root);
      steps.push("The consistency proof (" + proof.length + " hashes) shows that the tree of size " + latest.size + " (root " + hex(latest.root) + ") extends the tree of size " + old.size + " (root " + hex(old.root) + ")");
      return { ok: true, steps, summary: "the log's latest checkpoint (size " + latest.size + ") extends your checkpoint (size " + old.size + ")." };
    } catch (e) {
      if (!(e instanceof CheckError)) throw e;
      return { ok: false, steps, reason: e.message };
    }
  }

  // checkSizes checks that the log's tree of size to extends its tree of
  // size from, with both roots computed here from the log's tiles, and the
  // tiles' root of the latest size compared with the signed checkpoint.
  async function checkSizes(log, fromText, toText) {
    const steps = [];
    try {
      const from = parseSize(fromText, "the older size");
      const to = parseSize(toText, "the newer size");
      if (from > to) fail("the older size " + from + " is larger than the newer size " + to);
      const key = await log.key();
      const latest = await log.latest();
      steps.push(signatureStep("The latest checkpoint", latest, await verifyNote(latest, key)));
      if (to > latest.size) fail("the newer size " + to + " is beyond the latest checkpoint (size " + latest.size + ")");
      const tile = (p) => log.tile(p);
      const top = await treeRoot(latest.size, latest.size, tile);
      if (!equal(top, latest.root)) fail("the log's tiles give root " + hex(top) + " for size " + latest.size + ", but the signed checkpoint says " + hex(latest.root) + ": the tiles are not the signed tree");
      steps.push("The log's tiles give the signed root of the latest tree (size " + latest.size + ")");
      const root1 = await treeRoot(from, latest.size, tile);
      const root2 = await treeRoot(to, latest.size, tile);
      steps.push("From the tiles: the tree of size " + from + " has root " + hex(root1) + ", the tree of size " + to + " root " + hex(root2));
      const proof = from === to || from === 0n ? [] : await log.consistency(from, to);
      await verifyConsistency(from, to, proof, root1, root2);
      steps.push("The consistency proof (" + proof.length + " hashes) shows that the tree of size " + to + " extends the tree of size " + from);
      return { ok: true, steps, summary: "the log's tree of size " + to + " extends its tree of size " + from + "." };
    } catch (e) {
      if (!(e instanceof CheckError)) throw e;
      return { ok: false, steps, reason: e.message };
    }
  }

  // show writes a result into the element out, as text only.
  function show(doc, out, res) {
    out.replaceChildren();
    const head = doc.createElement("p");
    const verdict = doc.createElement("strong");
    verdict.textContent = res.ok ? "PASS" : "FAIL";
    head.append(verdict, ": " + (res.ok ? res.summary : res.reason));
    out.className = res.ok ? "ok" : "fail";
    out.dataset.result = res.ok ? "pass" : "fail";
    const list = doc.createElement("ol");
    for (const s of res.steps) {
      const li = doc.createElement("li");
      li.textContent = s;
      list.append(li);
    }
    out.append(head, list);
  }

  // wire connects the log page's forms (#logcheck holds the endpoints in
  // data attributes) to the checks.
  function wire(doc) {
    const box = doc.getElementById("logcheck");
    if (!box) return;
    const out = doc.getElementById("logcheck-result");
    const log = new Log({
      checkpoint: box.dataset.checkpointUrl,
      key: box.dataset.keyUrl,
      consistency: box.dataset.consistencyUrl,
      tiles: box.dataset.tilesUrl,
    });
    const run = (form, check) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        out.className = "";
        out.dataset.result = "running";
        out.textContent = "Checking\u2026";
        let res;
        try {
          res = await check(new FormData(form));
        } catch (e) {
          res = { ok: false, steps: [], reason: "the check stopped: " + e.message };
        }
        show(doc, out, res);
      });
    };
    const byCheckpoint = doc.getElementById("logcheck-checkpoint");
    if (byCheckpoint) run(byCheckpoint, (f) => checkCheckpoint(log, f.get("checkpoint") || ""));
    const bySizes = doc.getElementById("logcheck-sizes");
    if (bySizes) run(bySizes, (f) => checkSizes(log, f.get("from") || "", f.get("to") || ""));
  }

  root.SlipwayLogCheck = {
    CheckError, parseCheckpoint, parseVerifierKey, verifyNote, verifyConsistency, treeRoot, tilePath,
    hashLeaf, fromBase64, toBase64, Log, checkCheckpoint, checkSizes,
  };
  if (root.document) {
    if (root.document.readyState === "loading") root.document.addEventListener("DOMContentLoaded", () => wire(root.document));
    else wire(root.document);
  }
})(globalThis);
