// A closed-loop gRPC driver over prebuilt request bodies: each body is sent once (unique request ids stay
// unique), `concurrency` calls in flight over `channels` connections, for `seconds`. Prints one JSON line.
//   node loadgen.js TARGET METHOD BODIES_FILE CONCURRENCY SECONDS CHANNELS CALLERS_FILE
// BODIES_FILE: each body as a 4-byte big-endian length, then the serialized request.
// CALLERS_FILE: the caller of each body, one a line (medsettle:institution:H44010200001), sent as the
// x-medsettle-caller metadata to a loopback --insecure server.
"use strict";
const fs = require("fs");
const grpc = require("@grpc/grpc-js");

const [target, method, bodiesFile, concurrencyText, secondsText, channelsText, callersFile] = process.argv.slice(2);
const concurrency = Number(concurrencyText), seconds = Number(secondsText), channels = Number(channelsText || 2);
const raw = fs.readFileSync(bodiesFile);
const bodies = [];
for (let at = 0; at < raw.length;) {
  const size = raw.readUInt32BE(at);
  bodies.push(raw.subarray(at + 4, at + 4 + size));
  at += 4 + size;
}
const callers = fs.readFileSync(callersFile, "utf8").split("\n").filter((line) => line);
if (callers.length !== bodies.length) throw new Error(`${callers.length} callers for ${bodies.length} bodies`);
const metadataOf = new Map();
for (const caller of new Set(callers)) {
  const metadata = new grpc.Metadata();
  metadata.set("x-medsettle-caller", caller);
  metadataOf.set(caller, metadata);
}
const identity = (x) => x;
const clients = Array.from({ length: channels }, (_, i) => new grpc.Client(target, grpc.credentials.createInsecure(),
  { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 << 20, "channel-id": i }));
const latenciesUs = [];
const statuses = {};
let next = 0, calls = 0, inFlight = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(Math.round(seconds * 1e9));

function finish() {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesUs.sort((a, b) => a - b);
  const pick = (q) => (latenciesUs.length ? latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(latenciesUs.length * q))] : 0);
  const ok = statuses.OK || 0;
  console.log(JSON.stringify({ calls, ok, statuses, seconds: elapsed, rpc_per_s: ok / elapsed,
    p50_ms: pick(0.5) / 1000, p99_ms: pick(0.99) / 1000, bodies_left: bodies.length - next }));
  clients.forEach((c) => c.close());
}

function one() {
  if (process.hrtime.bigint() >= deadline || next >= bodies.length) {
    if (--inFlight === 0) finish();
    return;
  }
  const body = bodies[next];
  const metadata = metadataOf.get(callers[next]);
  const client = clients[next % channels];
  next += 1;
  const t0 = process.hrtime.bigint();
  client.makeUnaryRequest(method, identity, identity, body, metadata, (error) => {
    calls += 1;
    const name = error ? grpc.status[error.code] : "OK";
    statuses[name] = (statuses[name] || 0) + 1;
    latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    one();
  });
}

for (let i = 0; i < concurrency; i += 1) { inFlight += 1; one(); }
