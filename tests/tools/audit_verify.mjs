#!/usr/bin/env node
// An independent verifier of loci's audit trail, written only from docs/audit.md (no loci
// code), in another language, with Node's built-in crypto. It reads:
//   --entries FILE       the NDJSON export (GET /v1/admin/audit with Accept: application/x-ndjson)
//   --checkpoints FILE   the checkpoints as NDJSON (audit-checkpoints.ndjson) or as the JSON of
//                        GET /v1/admin/audit/checkpoints
//   --pubkey FILE        the Ed25519 public key (PEM, as served by /v1/admin/audit/pubkey)
// and prints {"ok":true,...} or {"ok":false,"problem":{"tenant","seq","reason"}}; exit 0 / 1.
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));

// F(x) = <decimal byte length> ":" x ","
const F = (x) => {
  const b = Buffer.from(String(x), "utf8");
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(",")]);
};
const sha256 = (...parts) => createHash("sha256").update(Buffer.concat(parts)).digest();

function entryHash(e) {
  const canonical = Buffer.concat([Buffer.from("loci-audit-v1"), F(e.tenant), F(e.seq), F(e.time), F(e.actor),
    F(e.action), F(e.subject), F(e.detail)]);
  return sha256(Buffer.from(e.prev_hash, "hex"), canonical);
}

function merkleRoot(heads) {
  if (heads.length === 0) return sha256(Buffer.alloc(0));
  const sorted = [...heads].sort((a, b) => Buffer.compare(Buffer.from(a.tenant), Buffer.from(b.tenant)));
  let level = sorted.map((h) => sha256(Buffer.from([0]), F(h.tenant), F(h.seq), Buffer.from(h.hash, "hex")));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 === level.length ? level[i] : sha256(Buffer.from([1]), level[i], level[i + 1]));
    }
    level = next;
  }
  return level[0];
}

function fail(tenant, seq, reason) {
  console.log(JSON.stringify({ ok: false, problem: { tenant, seq, reason } }));
  process.exit(1);
}

const key = createPublicKey(readFileSync(args.pubkey, "utf8"));
const cpText = readFileSync(args.checkpoints, "utf8").trim();
let checkpoints = [];
if (cpText.startsWith("{\"checkpoints\"")) checkpoints = JSON.parse(cpText).checkpoints;
else if (cpText) checkpoints = cpText.split("\n").map((l) => JSON.parse(l));

// checkpoints: consecutive, signed, and their heads give the signed root
const expected = new Map(); // "tenant\0seq" -> {hash, checkpoint}
checkpoints.forEach((cp, i) => {
  if (cp.seq !== i + 1) fail("(checkpoints)", i + 1, "checkpoint missing");
  const msg = Buffer.concat([Buffer.from("loci-checkpoint-v1"), F(cp.seq), F(cp.time), F(cp.root)]);
  if (!verify(null, msg, key, Buffer.from(cp.signature, "base64"))) fail("(checkpoints)", cp.seq, "bad signature");
  if (merkleRoot(cp.heads).toString("hex") !== cp.root) fail("(checkpoints)", cp.seq, "heads do not give the root");
  for (const h of cp.heads) expected.set(`${h.tenant}\0${h.seq}`, { hash: h.hash, checkpoint: cp.seq, seen: false });
});

// chains: consecutive seqs, linked hashes, each hash matching its content and any checkpoint
const lines = readFileSync(args.entries, "utf8").split("\n").filter((l) => l.length > 0);
let chain = null, lastSeq = 0, lastHash = "0".repeat(64), chains = 0;
for (const line of lines) {
  const e = JSON.parse(line);
  if (e.tenant !== chain) { chain = e.tenant; lastSeq = 0; lastHash = "0".repeat(64); chains++; }
  if (e.seq !== lastSeq + 1) fail(e.tenant, e.seq <= lastSeq ? e.seq : lastSeq + 1,
    e.seq <= lastSeq ? "out of order or repeated" : "entry missing");
  if (e.prev_hash !== lastHash) fail(e.tenant, e.seq, "prev_hash does not match the previous entry");
  if (entryHash(e).toString("hex") !== e.hash) fail(e.tenant, e.seq, "hash does not match the content");
  const x = expected.get(`${e.tenant}\0${e.seq}`);
  if (x) {
    if (x.hash !== e.hash) fail(e.tenant, e.seq, `differs from checkpoint ${x.checkpoint}`);
    x.seen = true;
  }
  lastSeq = e.seq;
  lastHash = e.hash;
}
for (const [k, x] of expected) {
  if (!x.seen) { const [t, s] = k.split("\0"); fail(t, Number(s), `entry missing: checkpoint ${x.checkpoint} attests it`); }
}
console.log(JSON.stringify({ ok: true, chains, entries: lines.length, checkpoints: checkpoints.length }));
