// A hospital gateway calling medsettle over gRPC (@grpc/grpc-js), the way a HIS integration does at the window:
// look the person up (1101), pre-settle the visit (2206, commits nothing), settle it (2207), send the settlement
// again with the same request id as a gateway does when an answer is lost (the core answers the original,
// identically), and reverse it (2208).
//
//   MEDSETTLE_TLS_DIR=../../data/tls node gateway.js --cert-type 02 --cert-no 110105196005011234 \
//       --fixmedins-code H44010600001 --line XA001:2:100.00 [--line CODE:CNT:PRIC ...]
//
// The person is looked up by the credential the window holds (02 ID number, 01 e-voucher token, or 03 card number
// with --card-sn): an institution never names a person by psn_no alone. The settlement then names the psn_no 1101
// answered.
//
// A sharded deployment (Envoy in front of shards by insured province) routes every call about a person by the
// x-insuplc-admdvs metadata: the gateway learns the insured place from 1101 and sends it on every later call of the
// visit. 1101 itself names no insured place: when a shard answers INSURED_PLACE_REQUIRED, the gateway asks the
// directory (FindInsuredPlace, by the same credential) and sends 1101 again with it. A single host ignores the
// metadata. Mutating calls also carry their request id in x-medsettle-request-id: the proxy may then send a call
// again after an UNAVAILABLE, which the request id makes harmless.
//
// Prints one JSON object with what each step answered. Amounts on the wire are fen (int64, kept as strings here so
// no amount loses precision); they are shown as yuan only at the end.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");

// ---- Everything about reaching the core, in one place ------------------------------------------------------------
// Mutual TLS: the gateway trusts the platform's CA (ca.pem) and presents its own certificate, whose URI SAN
// medsettle:institution:<fixmedins_code> is who it is: the core lets it act only as that hospital. The files are
// named as `medsettle certs init` names them (institution-<code>.pem, institution-<code>-key.pem); production brings
// its own CA and certificates. MEDSETTLE_INSECURE=1 instead speaks plaintext to a loopback `serve --insecure`,
// naming the hospital in the x-medsettle-caller metadata (development only).
const CONNECTION = {
  target: process.env.MEDSETTLE_TARGET || "127.0.0.1:50051",
  tlsDir: process.env.MEDSETTLE_TLS_DIR || path.join("data", "tls"),
  credentials(fixmedinsCode) {
    if (process.env.MEDSETTLE_INSECURE === "1") return grpc.credentials.createInsecure();
    const file = (name) => fs.readFileSync(path.join(this.tlsDir, name));
    return grpc.credentials.createSsl(file("ca.pem"), file(`institution-${fixmedinsCode}-key.pem`),
                                      file(`institution-${fixmedinsCode}.pem`));
  },
  callerMetadata(fixmedinsCode, headers = {}) {
    const metadata = new grpc.Metadata();
    if (process.env.MEDSETTLE_INSECURE === "1") {
      metadata.set("x-medsettle-caller", `medsettle:institution:${fixmedinsCode}`);
    }
    for (const [name, value] of Object.entries(headers)) if (value) metadata.set(name, value);
    return metadata;
  },
  deadlineMs: 5_000, // the window's budget for one call
};

const PROTOS = process.env.MEDSETTLE_PROTOS || path.join(__dirname, "..", "..", "protos");
const definition = protoLoader.loadSync(
  ["medsettle/v1/person.proto", "medsettle/v1/settlement.proto"],
  // keepCase: the national field names (psn_no, fixmedins_code) as they are on the wire; longs as strings: fen exact.
  { includeDirs: [PROTOS], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
);
const v1 = grpc.loadPackageDefinition(definition).medsettle.v1;

function client(Service, fixmedinsCode) {
  const stub = new Service(CONNECTION.target, CONNECTION.credentials(fixmedinsCode));
  stub.fixmedinsCode = fixmedinsCode;
  return stub;
}

// `visit.insuplc` (the insured place, once known) routes the call; a request id rides along in metadata too.
function call(stub, method, request, visit = {}) {
  const headers = { "x-insuplc-admdvs": visit.insuplc, "x-medsettle-request-id": request.request_id };
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + CONNECTION.deadlineMs);
    stub[method](request, CONNECTION.callerMetadata(stub.fixmedinsCode, headers), { deadline }, (error, answer) =>
      error ? reject(refusal(error)) : resolve(answer));
  });
}

// 1101 by credential; on a sharded deployment, through the directory when the shard asks for the insured place.
async function lookUp(persons, credential, visit) {
  try {
    return await call(persons, "GetPerson", { person: credential }, visit);
  } catch (refused) {
    if (!(refused.reasons || []).some((r) => r.reason === "INSURED_PLACE_REQUIRED")) throw refused;
  }
  visit.insuplc = (await call(persons, "FindInsuredPlace", { person: credential })).insuplc_admdvs;
  return call(persons, "GetPerson", { person: credential }, visit);
}

// ---- A refusal: google.rpc.Status in the grpc-status-details-bin trailer ---------------------------------------
// The few google.rpc types a refusal carries (field numbers as in google/rpc/status.proto and error_details.proto).
const rpcTypes = protobuf.Root.fromJSON({
  nested: { google: { nested: {
    protobuf: { nested: { Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } } } },
    rpc: { nested: {
      Status: { fields: { code: { type: "int32", id: 1 }, message: { type: "string", id: 2 },
                          details: { rule: "repeated", type: "google.protobuf.Any", id: 3 } } },
      ErrorInfo: { fields: { reason: { type: "string", id: 1 }, domain: { type: "string", id: 2 },
                             metadata: { keyType: "string", type: "string", id: 3 } } },
      LocalizedMessage: { fields: { locale: { type: "string", id: 1 }, message: { type: "string", id: 2 } } },
    } },
  } } },
});

function refusal(error) {
  const [raw] = error.metadata ? error.metadata.get("grpc-status-details-bin") : [];
  const reasons = [];
  let zh = "";
  if (raw) {
    const status = rpcTypes.lookupType("google.rpc.Status").decode(raw);
    for (const detail of status.details) {
      const name = detail.type_url.split("/").pop();
      if (name === "google.rpc.ErrorInfo") {
        const info = rpcTypes.lookupType(name).decode(detail.value);
        reasons.push({ reason: info.reason, ...info.metadata });
      } else if (name === "google.rpc.LocalizedMessage") {
        zh = rpcTypes.lookupType(name).decode(detail.value).message;
      }
    }
  }
  const refused = new Error(`${grpc.status[error.code]}: ${error.details}`);
  Object.assign(refused, { code: grpc.status[error.code], reasons, message_zh: zh });
  return refused;
}

// ---- The visit ------------------------------------------------------------------------------------------------

function args(argv) {
  const found = { lines: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--cert-type") found.cert_type = value;
    else if (flag === "--cert-no") found.cert_no = value;
    else if (flag === "--card-sn") found.card_sn = value;
    else if (flag === "--fixmedins-code") found.fixmedins_code = value;
    else if (flag === "--line") found.lines.push(value);
    else if (flag === "--date") found.date = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!found.cert_type || !found.cert_no || !found.fixmedins_code || found.lines.length === 0) {
    throw new Error("usage: node gateway.js --cert-type 01|02|03 --cert-no NO [--card-sn SN] --fixmedins-code H "
                    + "--line CODE:CNT:PRIC [--line ...]");
  }
  return found;
}

// Exact decimal arithmetic on strings: the line amount in fen is cnt × pric rounded half-up (never a float).
function scaled(decimal, places) {
  const [whole, fraction = ""] = decimal.split(".");
  if (fraction.length > places) throw new Error(`${decimal}: more than ${places} decimals`);
  return BigInt(whole + fraction.padEnd(places, "0"));
}

function lineAmountFen(cnt, pric) {
  const product = scaled(cnt, 4) * scaled(pric, 6); // units of 1e-10 yuan = 1e-8 fen
  return ((product + 50_000_000n) / 100_000_000n).toString();
}

function feeLines(specs, date) {
  return specs.map((spec, index) => {
    const [code, cnt, pric] = spec.split(":");
    return { feedetl_sn: String(index + 1).padStart(4, "0"), med_list_codg: code, cnt, pric,
             det_item_fee_sumamt: lineAmountFen(cnt, pric), fee_ocur_time: date };
  });
}

// The national msgid shape: institution code + time + sequence, at most 40 characters.
let sequence = 0;
function requestId(fixmedinsCode) {
  const stamp = new Date().toISOString().replace(/[-:T.Z]/g, "").slice(0, 14);
  sequence += 1;
  return `${fixmedinsCode}${stamp}${String(process.pid % 1000).padStart(3, "0")}${sequence}`.slice(0, 40);
}

const yuan = (fen) => {
  const value = BigInt(fen);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
};

async function main() {
  const visit = args(process.argv.slice(2));
  const date = visit.date || new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10); // Asia/Shanghai
  const persons = client(v1.PersonService, visit.fixmedins_code);
  const settlements = client(v1.SettlementService, visit.fixmedins_code);
  const report = {};

  const credential = { mdtrt_cert_type: visit.cert_type, mdtrt_cert_no: visit.cert_no, card_sn: visit.card_sn || "" };
  const person = await lookUp(persons, credential, visit);
  const psnNo = person.baseinfo.psn_no;
  visit.insuplc = person.baseinfo.insuinfo[0].insuplc_admdvs; // every later call of the visit is routed by it
  report.person = { psn_no: psnNo, certno_shown: person.baseinfo.certno,
                    insutypes: person.baseinfo.insuinfo.map((line) => line.insutype),
                    filings: person.filings.map((filing) => filing.category) };

  const lines = feeLines(visit.lines, date);
  const claim = { person: { psn_no: psnNo }, fixmedins_code: visit.fixmedins_code, med_type: "11",
                  fee_lines: lines,
                  medfee_sumamt: lines.reduce((sum, line) => sum + BigInt(line.det_item_fee_sumamt), 0n).toString() };
  const pre = (await call(settlements, "PreSettleOutpatient", { claim }, visit)).settlement;
  report.pre_settlement = { setl_id: pre.setl_id, medfee_sumamt: pre.medfee_sumamt, fund_pay_sumamt: pre.fund_pay_sumamt,
                            psn_part_amt: pre.psn_part_amt };

  const settleRequest = { request_id: requestId(visit.fixmedins_code), claim };
  const settled = (await call(settlements, "SettleOutpatient", settleRequest, visit)).settlement;
  // The answer was "lost": the gateway sends the same request again. The core answers the original settlement.
  const retried = (await call(settlements, "SettleOutpatient", settleRequest, visit)).settlement;
  report.settlement = { request_id: settleRequest.request_id, setl_id: settled.setl_id,
                        medfee_sumamt: settled.medfee_sumamt, fund_pay_sumamt: settled.fund_pay_sumamt,
                        psn_cash_pay: settled.psn_cash_pay, shown: `${yuan(settled.medfee_sumamt)} yuan, fund pays `
                          + `${yuan(settled.fund_pay_sumamt)}, person pays ${yuan(settled.psn_part_amt)}` };
  report.retry_identical = JSON.stringify(retried) === JSON.stringify(settled);
  report.pre_matches_settlement = pre.fund_pay_sumamt === settled.fund_pay_sumamt;

  const reversal = (await call(settlements, "ReverseSettlement", {
    request_id: requestId(visit.fixmedins_code), fixmedins_code: visit.fixmedins_code, setl_id: settled.setl_id,
  }, visit)).settlement;
  report.reversal = { setl_id: reversal.setl_id, reversed_setl_id: reversal.reversed_setl_id,
                      medfee_sumamt: reversal.medfee_sumamt, fund_pay_sumamt: reversal.fund_pay_sumamt };

  // A second reversal is refused: the refusal names its reason and what to do, in Chinese and English.
  try {
    await call(settlements, "ReverseSettlement", { request_id: requestId(visit.fixmedins_code),
                                                   fixmedins_code: visit.fixmedins_code, setl_id: settled.setl_id },
               visit);
    report.second_reversal = "accepted";
  } catch (refused) {
    report.second_reversal = { code: refused.code, reasons: refused.reasons, message_zh: refused.message_zh };
  }
  persons.close();
  settlements.close();
  console.log(JSON.stringify(report, null, 2));
}

main().catch((error) => {
  console.error(JSON.stringify({ error: error.message, code: error.code, reasons: error.reasons }));
  process.exit(1);
});
