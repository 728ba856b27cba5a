// Checks a Concord publication manifest in the reader's browser: the same rules as
// app/publishing/verify.py, with the same messages. The seal (Ed25519) and the hashes (SHA-256)
// use the browser's Web Crypto where it has them; otherwise the small implementations below
// (a browser that lacks Ed25519 in Web Crypto, or a page not served over https). Nothing is sent.
(function (global) {
  "use strict";

  var FORMAT = "concord-manifest/1";

  // --- bytes and text -------------------------------------------------------------------------

  function utf8(text) { return new TextEncoder().encode(text); }
  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }
  function fromBase64(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
    var raw;
    try { raw = atob(text); } catch (e) { return null; }
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function concat(parts) {
    var n = 0, i, offset = 0;
    for (i = 0; i < parts.length; i++) n += parts[i].length;
    var out = new Uint8Array(n);
    for (i = 0; i < parts.length; i++) { out.set(parts[i], offset); offset += parts[i].length; }
    return out;
  }
  function isWellFormed(text) {
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        var d = text.charCodeAt(i + 1);
        if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
        i++;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        return false;
      }
    }
    return true;
  }

  // --- canonical JSON: what the seal signs (sorted keys, no spaces, not ASCII-escaped) ------------

  function codePointCompare(a, b) {
    var x = Array.from(a), y = Array.from(b), n = Math.min(x.length, y.length);
    for (var i = 0; i < n; i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d !== 0) return d;
    }
    return x.length - y.length;
  }
  function canonicalJSON(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonicalJSON).join(",") + "]";
    return "{" + Object.keys(value).sort(codePointCompare).map(function (k) {
      return JSON.stringify(k) + ":" + canonicalJSON(value[k]);
    }).join(",") + "}";
  }

  // --- SHA-256 and SHA-512 (fallbacks) -----------------------------------------------------------

  var K256 = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1,
    0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
    0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3,
    0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb,
    0xbef9a3f7, 0xc67178f2];

  function pad(bytes, blockSize, lengthBytes) {
    var total = bytes.length + 1 + lengthBytes;
    total += (blockSize - (total % blockSize)) % blockSize;
    var out = new Uint8Array(total);
    out.set(bytes);
    out[bytes.length] = 0x80;
    var bits = bytes.length * 8;
    for (var i = 0; i < 8; i++) { out[total - 1 - i] = bits % 256; bits = Math.floor(bits / 256); }
    return out;
  }

  function sha256js(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var m = pad(bytes, 64, 8), w = new Int32Array(64), i, j;
    function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (i = 0; i < m.length; i += 64) {
      for (j = 0; j < 16; j++) w[j] = (m[i + 4 * j] << 24) | (m[i + 4 * j + 1] << 16) | (m[i + 4 * j + 2] << 8) | m[i + 4 * j + 3];
      for (j = 16; j < 64; j++) {
        var s0 = rotr(w[j - 15], 7) ^ rotr(w[j - 15], 18) ^ (w[j - 15] >>> 3);
        var s1 = rotr(w[j - 2], 17) ^ rotr(w[j - 2], 19) ^ (w[j - 2] >>> 10);
        w[j] = (w[j - 16] + s0 + w[j - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (j = 0; j < 64; j++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[j] + w[j]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    var out = new Uint8Array(32);
    for (i = 0; i < 8; i++) { out[4 * i] = h[i] >>> 24; out[4 * i + 1] = h[i] >>> 16; out[4 * i + 2] = h[i] >>> 8; out[4 * i + 3] = h[i]; }
    return out;
  }

  // SHA-512 on pairs of 32-bit halves.
  var K512 = (function () {
    var k = ["428a2f98d728ae22", "7137449123ef65cd", "b5c0fbcfec4d3b2f", "e9b5dba58189dbbc", "3956c25bf348b538",
      "59f111f1b605d019", "923f82a4af194f9b", "ab1c5ed5da6d8118", "d807aa98a3030242", "12835b0145706fbe",
      "243185be4ee4b28c", "550c7dc3d5ffb4e2", "72be5d74f27b896f", "80deb1fe3b1696b1", "9bdc06a725c71235",
      "c19bf174cf692694", "e49b69c19ef14ad2", "efbe4786384f25e3", "0fc19dc68b8cd5b5", "240ca1cc77ac9c65",
      "2de92c6f592b0275", "4a7484aa6ea6e483", "5cb0a9dcbd41fbd4", "76f988da831153b5", "983e5152ee66dfab",
      "a831c66d2db43210", "b00327c898fb213f", "bf597fc7beef0ee4", "c6e00bf33da88fc2", "d5a79147930aa725",
      "06ca6351e003826f", "142929670a0e6e70", "27b70a8546d22ffc", "2e1b21385c26c926", "4d2c6dfc5ac42aed",
      "53380d139d95b3df", "650a73548baf63de", "766a0abb3c77b2a8", "81c2c92e47edaee6", "92722c851482353b",
      "a2bfe8a14cf10364", "a81a664bbc423001", "c24b8b70d0f89791", "c76c51a30654be30", "d192e819d6ef5218",
      "d69906245565a910", "f40e35855771202a", "106aa07032bbd1b8", "19a4c116b8d2d0c8", "1e376c085141ab53",
      "2748774cdf8eeb99", "34b0bcb5e19b48a8", "391c0cb3c5c95a63", "4ed8aa4ae3418acb", "5b9cca4f7763e373",
      "682e6ff3d6b2b8a3", "748f82ee5defb2fc", "78a5636f43172f60", "84c87814a1f0ab72", "8cc702081a6439ec",
      "90befffa23631e28", "a4506cebde82bde9", "bef9a3f7b2c67915", "c67178f2e372532b", "ca273eceea26619c",
      "d186b8c721c0c207", "eada7dd6cde0eb1e", "f57d4f7fee6ed178", "06f067aa72176fba", "0a637dc5a2c898a6",
      "113f9804bef90dae", "1b710b35131c471b", "28db77f523047d84", "32caab7b40c72493", "3c9ebe0a15c9bebc",
      "431d67c49c100d4c", "4cc5d4becb3e42b6", "597f299cfc657e2a", "5fcb6fab3ad6faec", "6c44198c4a475817"];
    var out = new Int32Array(160);
    for (var i = 0; i < 80; i++) { out[2 * i] = parseInt(k[i].slice(0, 8), 16) | 0; out[2 * i + 1] = parseInt(k[i].slice(8), 16) | 0; }
    return out;
  })();

  function sha512js(bytes) {
    var h = new Int32Array([0x6a09e667, 0xf3bcc908 | 0, 0xbb67ae85 | 0, 0x84caa73b | 0, 0x3c6ef372, 0xfe94f82b | 0,
      0xa54ff53a | 0, 0x5f1d36f1, 0x510e527f, 0xade682d1 | 0, 0x9b05688c | 0, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b | 0,
      0x5be0cd19, 0x137e2179]);
    var m = pad(bytes, 128, 16), w = new Int32Array(160), i, j;
    // 64-bit helpers on (hi, lo) pairs, results in r[0], r[1].
    function add(ah, al, bh, bl, r) { var lo = (al >>> 0) + (bl >>> 0); r[0] = (ah + bh + Math.floor(lo / 4294967296)) | 0; r[1] = lo | 0; }
    function rotrH(h, l, n) { return n < 32 ? (h >>> n) | (l << (32 - n)) : (l >>> (n - 32)) | (h << (64 - n)); }
    function rotrL(h, l, n) { return n < 32 ? (l >>> n) | (h << (32 - n)) : (h >>> (n - 32)) | (l << (64 - n)); }
    var r = [0, 0];
    for (i = 0; i < m.length; i += 128) {
      for (j = 0; j < 32; j++) w[j] = (m[i + 4 * j] << 24) | (m[i + 4 * j + 1] << 16) | (m[i + 4 * j + 2] << 8) | m[i + 4 * j + 3];
      for (j = 16; j < 80; j++) {
        var xh = w[2 * (j - 15)], xl = w[2 * (j - 15) + 1];
        var s0h = rotrH(xh, xl, 1) ^ rotrH(xh, xl, 8) ^ (xh >>> 7);
        var s0l = rotrL(xh, xl, 1) ^ rotrL(xh, xl, 8) ^ ((xl >>> 7) | (xh << 25));
        var yh = w[2 * (j - 2)], yl = w[2 * (j - 2) + 1];
        var s1h = rotrH(yh, yl, 19) ^ rotrH(yh, yl, 61) ^ (yh >>> 6);
        var s1l = rotrL(yh, yl, 19) ^ rotrL(yh, yl, 61) ^ ((yl >>> 6) | (yh << 26));
        add(w[2 * (j - 16)], w[2 * (j - 16) + 1], s0h, s0l, r);
        add(r[0], r[1], w[2 * (j - 7)], w[2 * (j - 7) + 1], r);
        add(r[0], r[1], s1h, s1l, r);
        w[2 * j] = r[0]; w[2 * j + 1] = r[1];
      }
      var v = Array.prototype.slice.call(h);
      for (j = 0; j < 80; j++) {
        var ah = v[0], al = v[1], eh = v[8], el = v[9];
        var S1h = rotrH(eh, el, 14) ^ rotrH(eh, el, 18) ^ rotrH(eh, el, 41);
        var S1l = rotrL(eh, el, 14) ^ rotrL(eh, el, 18) ^ rotrL(eh, el, 41);
        var chh = (eh & v[10]) ^ (~eh & v[12]), chl = (el & v[11]) ^ (~el & v[13]);
        add(v[14], v[15], S1h, S1l, r);
        add(r[0], r[1], chh, chl, r);
        add(r[0], r[1], K512[2 * j], K512[2 * j + 1], r);
        add(r[0], r[1], w[2 * j], w[2 * j + 1], r);
        var t1h = r[0], t1l = r[1];
        var S0h = rotrH(ah, al, 28) ^ rotrH(ah, al, 34) ^ rotrH(ah, al, 39);
        var S0l = rotrL(ah, al, 28) ^ rotrL(ah, al, 34) ^ rotrL(ah, al, 39);
        var majh = (ah & v[2]) ^ (ah & v[4]) ^ (v[2] & v[4]), majl = (al & v[3]) ^ (al & v[5]) ^ (v[3] & v[5]);
        add(S0h, S0l, majh, majl, r);
        var t2h = r[0], t2l = r[1];
        v[14] = v[12]; v[15] = v[13]; v[12] = v[10]; v[13] = v[11]; v[10] = v[8]; v[11] = v[9];
        add(v[6], v[7], t1h, t1l, r); v[8] = r[0]; v[9] = r[1];
        v[6] = v[4]; v[7] = v[5]; v[4] = v[2]; v[5] = v[3]; v[2] = v[0]; v[3] = v[1];
        add(t1h, t1l, t2h, t2l, r); v[0] = r[0]; v[1] = r[1];
      }
      for (j = 0; j < 16; j += 2) { add(h[j], h[j + 1], v[j], v[j + 1], r); h[j] = r[0]; h[j + 1] = r[1]; }
    }
    var out = new Uint8Array(64);
    for (i = 0; i < 16; i++) { out[4 * i] = h[i] >>> 24; out[4 * i + 1] = h[i] >>> 16; out[4 * i + 2] = h[i] >>> 8; out[4 * i + 3] = h[i]; }
    return out;
  }

  // --- Ed25519 verification (RFC 8032), fallback -----------------------------------------------------

  var P = (1n << 255n) - 19n;
  var L = (1n << 252n) + 27742317777372353535851937790883648493n;
  function mod(a, m) { var r = a % (m || P); return r >= 0n ? r : r + (m || P); }
  function pow(b, e) { var r = 1n; b = mod(b); while (e > 0n) { if (e & 1n) r = mod(r * b); b = mod(b * b); e >>= 1n; } return r; }
  function inv(a) { return pow(a, P - 2n); }
  var D = mod(-121665n * inv(121666n));
  var SQRT_M1 = pow(2n, (P - 1n) / 4n);
  var GY = mod(4n * inv(5n));
  function recoverX(y, sign) {
    var u = mod(y * y - 1n), v = mod(D * y * y + 1n);
    var x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
    var vx2 = mod(v * x * x);
    if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
    else if (vx2 !== u) return null;
    if (x === 0n && sign) return null;
    if ((x & 1n) !== BigInt(sign)) x = mod(-x);
    return x;
  }
  var G = [recoverX(GY, 0), GY, 1n, mod(recoverX(GY, 0) * GY)];
  function pointAdd(p, q) {
    var a = mod((p[1] - p[0]) * (q[1] - q[0])), b = mod((p[1] + p[0]) * (q[1] + q[0]));
    var c = mod(2n * p[3] * q[3] * D), d = mod(2n * p[2] * q[2]);
    var e = b - a, f = d - c, g = d + c, h = b + a;
    return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
  }
  function scalarMult(k, p) {
    var q = [0n, 1n, 1n, 0n];
    while (k > 0n) { if (k & 1n) q = pointAdd(q, p); p = pointAdd(p, p); k >>= 1n; }
    return q;
  }
  function leToInt(bytes) { var r = 0n; for (var i = bytes.length - 1; i >= 0; i--) r = (r << 8n) + BigInt(bytes[i]); return r; }
  function decodePoint(bytes) {
    var y = leToInt(bytes) & ((1n << 255n) - 1n), sign = bytes[31] >> 7;
    if (y >= P) return null;
    var x = recoverX(y, sign);
    return x === null ? null : [x, y, 1n, mod(x * y)];
  }
  function encodePoint(p) {
    var zi = inv(p[2]), x = mod(p[0] * zi), y = mod(p[1] * zi), out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) { out[i] = Number(y & 255n); y >>= 8n; }
    if (x & 1n) out[31] |= 0x80;
    return out;
  }
  function ed25519VerifyJs(publicKey, signature, message) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    var A = decodePoint(publicKey), R = signature.slice(0, 32), S = leToInt(signature.slice(32));
    if (A === null || decodePoint(R) === null || S >= L) return false;
    var k = mod(leToInt(sha512js(concat([R, publicKey, message]))), L);
    var check = pointAdd(scalarMult(S, G), scalarMult(L - k, A));  // [S]B - [k]A
    var encoded = encodePoint(check);
    for (var i = 0; i < 32; i++) if (encoded[i] !== R[i]) return false;
    return true;
  }

  // --- Web Crypto where the browser has it ------------------------------------------------------------

  var forceBundled = false;
  function subtle() { return !forceBundled && global.crypto && global.crypto.subtle ? global.crypto.subtle : null; }

  function sha256(bytes) {
    var s = subtle();
    if (s) return s.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
    return Promise.resolve(sha256js(bytes));
  }

  // Resolves to {ok: bool, engine: "Web Crypto" | "bundled verifier"}.
  function ed25519Verify(publicKey, signature, message) {
    var s = subtle();
    var bundled = function () { return {ok: ed25519VerifyJs(publicKey, signature, message), engine: "bundled verifier"}; };
    if (!s) return Promise.resolve(bundled());
    return s.importKey("raw", publicKey, {name: "Ed25519"}, false, ["verify"]).then(function (key) {
      return s.verify({name: "Ed25519"}, key, signature, message).then(function (ok) { return {ok: ok, engine: "Web Crypto"}; });
    }, bundled);
  }

  // --- the rules, as in verify.py -----------------------------------------------------------------------

  function checkHashes(data, problems) {
    var text = data.text, version = data.version, canonical = data.canonical_text;
    var digests = [typeof text === "string" && isWellFormed(text) ? sha256(utf8(text)) : null,
      typeof canonical === "string" && isWellFormed(canonical) ? sha256(utf8(canonical)) : null];
    return Promise.all(digests.map(function (p) { return p || Promise.resolve(null); })).then(function (d) {
      if (typeof text !== "string") {
        problems.push('The manifest has no plain text ("text").');
      } else if (typeof data.sha256 !== "string") {
        problems.push('The manifest has no SHA-256 of the plain text ("sha256").');
      } else if (d[0] === null) {
        problems.push("The plain text is not valid Unicode.");
      } else if (hex(d[0]) !== data.sha256.toLowerCase()) {
        problems.push("The plain text does not match its SHA-256, so the text has been changed: the manifest says " +
          data.sha256 + ", the text hashes to " + hex(d[0]) + ".");
      }
      var versionSha = version && typeof version === "object" && !Array.isArray(version) ? version.sha256 : undefined;
      if (typeof versionSha !== "string") {
        problems.push('The manifest has no version hash ("version": {"sha256": ...}).');
        versionSha = null;
      }
      if (typeof canonical !== "string") {
        problems.push('The manifest has no canonical text ("canonical_text").');
      } else if (versionSha !== null) {
        if (d[1] === null) {
          problems.push("The canonical text is not valid Unicode.");
        } else if (hex(d[1]) !== versionSha.toLowerCase()) {
          problems.push("The canonical text does not match the version's SHA-256, so the signed text has been changed: " +
            "the manifest says " + versionSha + ", the text hashes to " + hex(d[1]) + ".");
        }
      }
      if (typeof text === "string" && typeof canonical === "string") {
        var blocks = text.replace(/\n+$/, "").split("\n\n");
        if ([blocks[0]].concat(blocks.slice(2)).join("\n\n") + "\n" !== canonical) {
          problems.push("The plain text and the canonical text do not carry the same title and paragraphs.");
        }
      }
      return versionSha;
    });
  }

  function str(value) { return value === undefined || value === null ? "" : String(value); }
  function pyRepr(value) {
    if (value === undefined || value === null) return "None";
    if (typeof value === "string") return "'" + value.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
    return String(value);
  }

  function checkSignatures(data, versionSha, problems) {
    var signatures = data.signatures, participants = data.participants;
    if (!Array.isArray(signatures) || signatures.length === 0) { problems.push("The manifest lists no signatures."); return; }
    var archive = data.archive !== undefined && data.archive !== null;
    var signedBy = [];
    signatures.forEach(function (sig, i) {
      var n = i + 1;
      if (!sig || typeof sig !== "object" || Array.isArray(sig)) { problems.push("Signature " + n + " is not a record."); return; }
      var who = sig.organisation || sig.organisation_slug || "signature " + n;
      if (versionSha !== null && str(sig.version_sha256).toLowerCase() !== versionSha.toLowerCase()) {
        problems.push("The signature of " + who + " is for another version (" + (sig.version_sha256 === undefined || sig.version_sha256 === null ? "None" : sig.version_sha256) +
          ") than the published one (" + versionSha + ").");
      }
      if (sig.recorded === true && !archive) {
        problems.push("The signature of " + who + " is marked as recorded by the coordinator, but the manifest is not an archived statement's.");
      } else if (archive && sig.recorded !== true) {
        problems.push("The signature of " + who + " is not marked as recorded, but the manifest is an archived statement's, whose signatures were not made on Concord.");
      }
      signedBy.push(str(sig.organisation_slug));
    });
    if (!Array.isArray(participants) || participants.length === 0) { problems.push("The manifest lists no participating organisations."); return; }
    var slugs = participants.map(function (p) { return p && typeof p === "object" && !Array.isArray(p) ? str(p.slug) : ""; });
    participants.forEach(function (p, i) {
      var slug = slugs[i];
      var name = (p && typeof p === "object" && !Array.isArray(p) ? p.name : null) || slug || "a participant";
      var count = signedBy.filter(function (s) { return s === slug; }).length;
      if (count === 0) problems.push(name + " is a participant but has no signature.");
      else if (count > 1) problems.push(name + " has " + count + " signatures; there should be exactly one.");
    });
    signedBy.forEach(function (slug) {
      if (slugs.indexOf(slug) < 0) problems.push("A signature is from " + (slug || "an unnamed organisation") + ", which is not a participant.");
    });
  }

  function isRecord(value) { return !!value && typeof value === "object" && !Array.isArray(value); }

  function checkLanguages(data, problems) {
    var languages = data.languages;
    if (languages === undefined || languages === null) return Promise.resolve();
    if (!Array.isArray(languages)) { problems.push('The manifest\'s "languages" is not a list.'); return Promise.resolve(); }
    var canonical = data.canonical_text;
    var sourceBlocks = typeof canonical === "string" ? canonical.replace(/\n+$/, "").split("\n\n").length : null;
    var digests = languages.map(function (e) {
      if (!isRecord(e) || typeof e.text !== "string" || typeof e.canonical_text !== "string" ||
          !isWellFormed(e.text) || !isWellFormed(e.canonical_text)) return Promise.resolve(null);
      return Promise.all([sha256(utf8(e.text)), sha256(utf8(e.canonical_text))]);
    });
    return Promise.all(digests).then(function (d) {
      var authentic = {}, authenticOrder = [];
      languages.forEach(function (entry, i) {
        var n = i + 1;
        if (!isRecord(entry) || typeof entry.language !== "string") {
          problems.push("Language " + n + " of the manifest is not a record with a language.");
          return;
        }
        var tag = entry.language;
        if ([entry.text, entry.sha256, entry.canonical_text, entry.canonical_sha256].some(function (v) { return typeof v !== "string"; })) {
          problems.push("The " + tag + " text lacks its plain text, canonical text or their SHA-256.");
          return;
        }
        if (d[i] === null) { problems.push("The " + tag + " text is not valid Unicode."); return; }
        var textActual = hex(d[i][0]), canonicalActual = hex(d[i][1]);
        if (textActual !== entry.sha256.toLowerCase()) {
          problems.push("The " + tag + " plain text does not match its SHA-256, so the text has been changed: the manifest says " +
            entry.sha256 + ", the text hashes to " + textActual + ".");
        }
        if (canonicalActual !== entry.canonical_sha256.toLowerCase()) {
          problems.push("The " + tag + " canonical text does not match its SHA-256, so the text has been changed: the manifest says " +
            entry.canonical_sha256 + ", the text hashes to " + canonicalActual + ".");
        }
        var blocks = entry.text.replace(/\n+$/, "").split("\n\n");
        if ([blocks[0]].concat(blocks.slice(2)).join("\n\n") + "\n" !== entry.canonical_text) {
          problems.push("The " + tag + " plain text and its canonical text do not carry the same title and paragraphs.");
        }
        if (sourceBlocks !== null && entry.canonical_text.replace(/\n+$/, "").split("\n\n").length !== sourceBlocks) {
          problems.push("The " + tag + " text does not have as many paragraphs as the source.");
        }
        if (entry.authentic === true) {
          if (!(tag in authentic)) authenticOrder.push(tag);
          authentic[tag] = entry.canonical_sha256.toLowerCase();
        }
      });
      (Array.isArray(data.signatures) ? data.signatures : []).forEach(function (sig, i) {
        if (!isRecord(sig)) return;
        var who = sig.organisation || sig.organisation_slug || "signature " + (i + 1);
        var named = sig.translation_sha256 || {};
        if (!isRecord(named)) { problems.push("The signature of " + who + " names its translations in an unreadable form."); return; }
        authenticOrder.forEach(function (tag) {
          if (str(named[tag]).toLowerCase() !== authentic[tag]) {
            problems.push("The signature of " + who + " does not name the authentic " + tag + " text's SHA-256 (" + authentic[tag] + ").");
          }
        });
        Object.keys(named).forEach(function (tag) {
          if (!(tag in authentic)) {
            problems.push("The signature of " + who + " names a " + tag + " text that the manifest does not list as authentic.");
          }
        });
      });
    });
  }

  function checkSeal(data, expectedKey, problems) {
    var seal = data.seal;
    if (!seal || typeof seal !== "object" || Array.isArray(seal)) { problems.push("The manifest has no seal."); return Promise.resolve(null); }
    if (seal.algorithm !== "Ed25519") {
      problems.push("The seal uses an unknown algorithm (" + pyRepr(seal.algorithm) + "); expected Ed25519.");
      return Promise.resolve(null);
    }
    var rawKey = fromBase64(str(seal.public_key)), signature = fromBase64(str(seal.signature));
    if (rawKey === null || signature === null || rawKey.length !== 32 || signature.length !== 64) {
      problems.push("The seal's public key or signature is not valid base64 of the right length.");
      return Promise.resolve(null);
    }
    var body = {};
    Object.keys(data).forEach(function (k) { if (k !== "seal") body[k] = data[k]; });
    var canonical = canonicalJSON(body);
    if (!isWellFormed(canonical)) {
      problems.push("The manifest contains invalid Unicode, so the seal cannot match.");
      return Promise.resolve(null);
    }
    return ed25519Verify(rawKey, signature, utf8(canonical)).then(function (result) {
      if (!result.ok) {
        problems.push("The seal does not match the manifest: something in it (text, date, signatures, participants...) " +
          "was changed after the platform sealed it.");
      }
      if (expectedKey !== undefined && expectedKey !== null) {
        var expected = fromBase64(expectedKey.trim());
        if (expected === null) {
          problems.push("The expected public key given is not valid base64.");
        } else if (hex(expected) !== hex(rawKey)) {
          problems.push("The manifest is sealed with key " + seal.public_key + ", not the expected key " + expectedKey.trim() + ".");
        }
      }
      return result.engine;
    });
  }

  // Resolves to {problems: [...], engine: "Web Crypto" | "bundled verifier" | null}.
  function verifyManifest(data, expectedKey) {
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      return Promise.resolve({problems: ["The manifest is not a JSON object."], engine: null});
    }
    var problems = [];
    if (data.format !== FORMAT) problems.push("Unknown manifest format " + pyRepr(data.format) + "; expected '" + FORMAT + "'.");
    return checkHashes(data, problems).then(function (versionSha) {
      checkSignatures(data, versionSha, problems);
      return checkLanguages(data, problems);
    }).then(function () {
      return checkSeal(data, expectedKey, problems);
    }).then(function (engine) { return {problems: problems, engine: engine}; });
  }

  function checkText(data, textBytes) {
    return sha256(textBytes).then(function (d) { return hex(d) === str(data.sha256).toLowerCase(); });
  }

  global.ConcordVerify = {
    verifyManifest: verifyManifest, checkText: checkText, canonicalJSON: canonicalJSON,
    sha256js: sha256js, sha512js: sha512js, ed25519VerifyJs: ed25519VerifyJs,
    useBundled: function (on) { forceBundled = !!on; }
  };

  // --- the page ------------------------------------------------------------------------------------------

  function readFile(input) {
    var file = input && input.files && input.files[0];
    if (!file) return Promise.resolve(null);
    return file.arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }

  function say(box, className, lines) {
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "verdict " + className;
    p.textContent = lines[0];
    box.appendChild(p);
    if (lines.length > 1) {
      var ul = document.createElement("ul");
      ul.className = "problems";
      lines.slice(1).forEach(function (line) { var li = document.createElement("li"); li.textContent = line; ul.appendChild(li); });
      box.appendChild(ul);
    }
  }

  function setUp() {
    var section = document.querySelector("[data-local-check]");
    if (section) {
      var box = section.querySelector("[data-local-result]");
      section.querySelector("[data-local-run]").addEventListener("click", function () {
        var key = section.getAttribute("data-public-key");
        Promise.all([readFile(document.getElementById("local-manifest")), readFile(document.getElementById("local-text"))])
          .then(function (files) {
            if (!files[0]) { say(box, "verdict-bad", ["Choose the manifest (.json) first."]); return null; }
            var data;
            try { data = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(files[0]).replace(/^\ufeff/, "")); } catch (e) {
              say(box, "verdict-bad", ["This file is not a JSON manifest."]); return null;
            }
            return verifyManifest(data, key).then(function (result) {
              var lines = result.problems.slice();
              var textCheck = files[1] ? checkText(data, files[1]) : Promise.resolve(null);
              return textCheck.then(function (textOk) {
                if (textOk === false) lines.push("The plain text you chose is not the text this manifest names: its SHA-256 differs.");
                var how = result.engine ? " (checked by your browser, " + result.engine + ")" : "";
                if (lines.length === 0) {
                  say(box, "verdict-ok", ["Intact: the manifest of “" + str(data.title) + "” is sealed by this platform's key" +
                    (textOk ? ", and the plain text is the one it names" : "") + how + "."]);
                } else {
                  say(box, "verdict-bad", ["Not intact" + how + ":"].concat(lines));
                }
              });
            });
          });
      });
    }
    var zone = document.querySelector("[data-dropzone]");
    if (zone) {
      var input = zone.querySelector("input[type=file]");
      zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("dragging"); });
      zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
      zone.addEventListener("drop", function (e) {
        e.preventDefault();
        zone.classList.remove("dragging");
        if (input && e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
      });
    }
  }
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp); else setUp();
  }
})(typeof window !== "undefined" ? window : this);
