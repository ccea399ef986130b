// sign_azure.mjs - the reference side of tests/e2e/test_sign_azure.py: signs the cases read
// as JSON lines on stdin (the presign tool's input: provider "azure", endpoint, public_host,
// account, bucket, credentials.account_key, method, key, now, expires, op, part_number,
// response_content_disposition, response_content_type) with the official @azure/storage-blob
// and prints one JSON line per case: {"url": ..., "sdk_url": ...} or {"error": ...}.
//
// "url" is what an application gets from the SDK for a blob service SAS: the blob's URL as
// BlobServiceClient -> getContainerClient -> getBlobClient builds it (names encoded by
// encodeURIComponent per segment, WHATWG URL normalisation), with the query of
// generateBlobSASQueryParameters set as its search (what BlobClient.generateSasUrl does),
// then "&comp=block&blockid=<encoded id>" or "&comp=blocklist" for the block operations.
// "sdk_url" is BlobClient.generateSasUrl itself, where it can be used: it re-parses the blob
// name from the URL, which only gives back the names for the URL styles it knows (an
// IP-style or local host with the account as the path, or an <account>.blob.* host).
//
// Usage: node tests/node/sign_azure.mjs < cases.jsonl
import { createInterface } from "node:readline";

import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from "@azure/storage-blob";

const VERSION = process.env.AZURE_SAS_VERSION || "2025-11-05";
const services = new Map();

// The blob service URL clients use: public_host's scheme and host with the endpoint's path.
function serviceUrl(c) {
  if (!c.public_host) return c.endpoint;
  const rest = c.endpoint.split("://", 2)[1];
  const slash = rest.indexOf("/");
  return c.public_host + (slash >= 0 ? rest.slice(slash) : "");
}

function service(c) {
  const url = serviceUrl(c);
  const k = JSON.stringify([url, c.account, c.credentials.account_key]);
  if (!services.has(k)) {
    const cred = new StorageSharedKeyCredential(c.account, c.credentials.account_key);
    services.set(k, { cred, svc: new BlobServiceClient(url, cred) });
  }
  return services.get(k);
}

function permissions(c) {
  switch (c.op || "object") {
    case "part":
      return "w";
    case "mp_complete":
      return "cw";
    case "object":
      return { GET: "r", HEAD: "r", PUT: "cw", DELETE: "d" }[c.method];
    default:
      return undefined;
  }
}

function sign(c) {
  const sp = permissions(c);
  if (sp === undefined) return { error: "not needed for azure" };
  const { cred, svc } = service(c);
  const blob = svc.getContainerClient(c.bucket).getBlobClient(c.key);
  const values = {
    containerName: c.bucket,
    blobName: c.key,
    permissions: BlobSASPermissions.parse(sp),
    expiresOn: new Date((c.now + c.expires) * 1000),
    protocol: SASProtocol.HttpsAndHttp,
    version: VERSION,
  };
  if (c.method === "GET" && (c.op || "object") === "object") {
    if (c.response_content_disposition) values.contentDisposition = c.response_content_disposition;
    if (c.response_content_type) values.contentType = c.response_content_type;
  }
  const sas = generateBlobSASQueryParameters(values, cred).toString();
  const u = new URL(blob.url);
  u.search = sas;
  let extra = "";
  if (c.op === "part") {
    const id = Buffer.from(String(c.part_number).padStart(8, "0")).toString("base64");
    extra = "&comp=block&blockid=" + encodeURIComponent(id);
  } else if (c.op === "mp_complete") {
    extra = "&comp=blocklist";
  }
  const out = { url: u.toString() + extra };
  // generateSasUrl signs the names it parses back from the URL: usable when they are ours
  if (blob.containerName === c.bucket && blob.name === c.key) {
    // generateSasUrl is async only in name: it resolves at once
    const { blobName, ...rest } = values;
    void blobName;
    out.sdk_url_promise = blob.generateSasUrl(rest).then((s) => s + extra);
  }
  return out;
}

const lines = [];
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) lines.push(line);
}
for (const line of lines) {
  let out;
  try {
    out = sign(JSON.parse(line));
    if (out.sdk_url_promise) {
      out.sdk_url = await out.sdk_url_promise;
      delete out.sdk_url_promise;
    }
  } catch (e) {
    out = { error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
