// The verification page's own check of a retirement's inclusion proof (RFC 9162, 2.1.3.2), in the
// browser with WebCrypto's SHA-256, and of the checkpoint's Ed25519 signature (C2SP signed note)
// where the browser has Ed25519. Without JavaScript the page shows the server's check and the data.
(function () {
  "use strict";
  const data = document.getElementById("log-data");
  const out = document.getElementById("log-browser-check");
  if (!data || !out || !window.crypto || !crypto.subtle) return;
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sha256 = async (...parts) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  };
  const node = (left, right) => sha256(Uint8Array.of(1), left, right);

  async function inclusionHolds(leaf, index, size, proof, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  async function signatureHolds() {
    // The note: its text, an empty line, signature lines "— name base64(keyid || signature)".
    const note = document.getElementById("log-checkpoint").textContent;
    const key = document.getElementById("log-verifier-key").textContent.trim().split("+");
    const [text, signatures] = [note.slice(0, note.lastIndexOf("\n\n") + 1), note.slice(note.lastIndexOf("\n\n") + 2)];
    const publicKey = bytes(key[2]).slice(1);
    const line = signatures.split("\n").find((l) => l.startsWith("\u2014 " + key[0] + " "));
    if (!line) return false;
    const signature = bytes(line.split(" ")[2]).slice(4);
    const imported = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, imported, signature, new TextEncoder().encode(text));
  }

  (async function () {
    const proof = data.dataset.proof ? data.dataset.proof.split(" ").map(bytes) : [];
    const included = await inclusionHolds(bytes(data.dataset.leaf), Number(data.dataset.index),
      Number(data.dataset.size), proof, bytes(data.dataset.root));
    let signed = null;
    try { signed = await signatureHolds(); } catch (error) { signed = null; }  // no Ed25519 in this browser
    out.textContent = (included ? " Your browser checked the proof too: it leads to the checkpoint's root."
      : " Your browser's check of the proof FAILED: it does not lead to the checkpoint's root.")
      + (signed === null ? " (This browser cannot check Ed25519 signatures; the auditors' page says how.)"
        : signed ? " It also checked the checkpoint's signature with the verifier key."
          : " The checkpoint's signature does NOT match the verifier key.");
    out.dataset.included = String(included);
    out.dataset.signed = String(signed);
    out.hidden = false;
  })();
})();
