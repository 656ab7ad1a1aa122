// Verifies a loan's fund flow in the browser, trusting nothing but the operator's public key:
// each edge's log entry is hashed here (RFC 9162 leaf: SHA-256(0x00 || entry)), must say what the
// page shows (loan, from, to, amount, date) and link to the previous movement, and its inclusion
// proof must lead to the root of the checkpoint, whose operator signature and witness
// cosignatures (C2SP signed note and cosignature/v1, Ed25519) are checked with WebCrypto against
// the keys printed on the page. Self-contained: no library, no network.
(async function () {
  "use strict";
  const data = JSON.parse(document.getElementById("flow-data").textContent);
  const words = document.getElementById("verify-words").dataset;
  const enc = new TextEncoder();
  const ZERO = new Uint8Array([0]);
  const ONE = new Uint8Array([1]);
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const hex = (a) => Array.from(a, (v) => v.toString(16).padStart(2, "0")).join("");
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  async function sha(...parts) {
    const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { buf.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  }
  // RFC 9162 section 2.1.3.2
  async function verifyInclusion(leaf, index, size, proof, root) {
    if (!(index < size)) throw new Error("index " + index + " is not below size " + size);
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (p.length !== 32) throw new Error("a proof hash is not 32 bytes");
      if (sn === 0) throw new Error("the proof is too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha(ONE, p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha(ONE, r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is too short");
    if (!same(r, root)) throw new Error("the proof does not lead to the checkpoint root");
  }
  // C2SP signed note: the body up to the blank line, then signature lines
  // "— <name> base64(keyID(4) || signature)"; key ID = SHA-256(name || "\n" || type || key)[:4].
  function noteParts(cp) {
    const text = cp.note;
    const cut = text.indexOf("\n\n");
    if (cut < 0) throw new Error("the checkpoint is not a signed note");
    const body = text.slice(0, cut + 1);
    const lines = body.split("\n");
    if (lines[1] !== String(cp.size) || lines[2] !== cp.root) {
      throw new Error("the note's size or root is not the checkpoint's");
    }
    const sigs = [];
    for (const line of text.slice(cut + 2).split("\n")) {
      const m = line.match(/^\u2014 (\S+) (\S+)$/);
      if (m) sigs.push({ name: m[1], bytes: b64(m[2]) });
    }
    return { body, sigs };
  }
  async function parseVkey(vkey) {
    // name+hex key ID+base64 key: the base64 may itself contain "+"
    const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    const name = vkey.slice(0, first), idHex = vkey.slice(first + 1, second);
    const keyB64 = vkey.slice(second + 1);
    const key = b64(keyB64);
    if (key.length !== 33) throw new Error("not an Ed25519 key");
    const type = key[0], pub = key.slice(1);
    const id = (await sha(enc.encode(name + "\n"), new Uint8Array([type]), pub)).slice(0, 4);
    if (hex(id) !== idHex) throw new Error("the key ID of " + name + " does not match its key");
    let k = null;
    try {
      k = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      k = null;  // this browser has no WebCrypto Ed25519
    }
    return { name, type, id, k };
  }
  // true: a valid signature by this key; false: none; null: the browser cannot check Ed25519
  async function signedBy(parts, key) {
    if (key.k === null) return null;
    for (const sig of parts.sigs) {
      if (sig.name !== key.name || !same(sig.bytes.slice(0, 4), key.id)) continue;
      let message = enc.encode(parts.body), signature = sig.bytes.slice(4);
      if (key.type === 4) {  // cosignature/v1: 8-byte big-endian time || signature
        if (signature.length !== 72) continue;
        let t = 0n;
        for (const v of signature.slice(0, 8)) t = t * 256n + BigInt(v);
        message = enc.encode("cosignature/v1\ntime " + t.toString() + "\n" + parts.body);
        signature = signature.slice(8);
      } else if (key.type !== 1) {
        continue;
      }
      if (await crypto.subtle.verify({ name: "Ed25519" }, key.k, signature, message)) return true;
    }
    return false;
  }
  function mark(el, ok, text) {
    el.textContent = (ok ? "\u2713 " : "\u2717 ") + text;
    el.className = ok ? "verified" : "failed";
  }
  const root = b64(data.checkpoint.root);
  const sigCell = document.getElementById("checkpoint-verify");
  const quorumCell = document.getElementById("quorum-verify");
  try {
    const parts = noteParts(data.checkpoint);
    const operator = await parseVkey(data.operator_vkey);
    const ok = await signedBy(parts, operator);
    if (ok === null) {
      sigCell.textContent = words.sigunsupported; sigCell.dataset.verified = "unsupported";
      quorumCell.textContent = words.sigunsupported; quorumCell.dataset.verified = "unsupported";
    } else {
      if (!ok) throw new Error("no valid operator signature on the checkpoint");
      mark(sigCell, true, words.sigok); sigCell.dataset.verified = "ok";
      let count = 0;
      for (const w of data.witnesses) {
        if (await signedBy(parts, await parseVkey(w))) count += 1;
      }
      const text = words.quorum.replace("{k}", count).replace("{n}", data.witnesses.length)
        .replace("{t}", data.threshold);
      mark(quorumCell, count >= data.threshold, text);
      quorumCell.dataset.verified = count >= data.threshold ? "ok" : "failed";
    }
  } catch (e) {
    mark(sigCell, false, words.failed + ": " + e.message); sigCell.dataset.verified = "failed";
  }
  let good = 0, bad = 0, prev = "";
  for (const edge of data.edges) {
    const row = document.getElementById("edge-" + edge.n);
    const cell = document.getElementById("verify-" + edge.n);
    const line = document.getElementById("edge-line-" + edge.n);
    try {
      const bytes = b64(edge.entry);
      const leaf = await sha(ZERO, bytes);
      const entry = JSON.parse(new TextDecoder().decode(bytes));
      const b = entry.body || {};
      const shown = row.dataset;
      if (entry.kind !== "fund.move" || b.loan !== data.loan || b.from !== shown.from ||
          b.to !== shown.to || b.amount !== shown.amount || b.at !== shown.at) {
        throw new Error("the log entry does not say what the page shows");
      }
      if (b.prev !== prev) throw new Error("the movement does not link to the previous one");
      prev = hex(leaf);
      await verifyInclusion(leaf, edge.index, data.checkpoint.size, edge.proof.map(b64), root);
      mark(cell, true, words.ok);
      row.dataset.verified = "ok";
      if (line) line.classList.add("edge-ok");
      good += 1;
    } catch (e) {
      mark(cell, false, words.failed + ": " + e.message);
      row.dataset.verified = "failed";
      if (line) line.classList.add("edge-failed");
      bad += 1;
      prev = "";
    }
  }
  const summary = document.getElementById("verify-summary");
  summary.textContent = words.summary.replace("{ok}", good).replace("{bad}", bad);
  summary.className = bad ? "failed" : "verified";
  summary.dataset.done = bad ? "failed" : "ok";
})();
