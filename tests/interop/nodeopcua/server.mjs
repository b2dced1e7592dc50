// A small OPC UA machine served by node-opcua: an independent peer for oee-edge's connector.
//
//   node server.mjs --port P [--security none|basic256sha256] [--user NAME:PASS] [--pki DIR]
//
// Address space (namespace `urn:node-opcua:machine`, index 3: a dummy namespace is registered
// first so that a client that hard-codes ns=2 fails and one that resolves the URI works):
//
//   Objects/Line (folder, s=Line)/Press7 (object, s=Press7)/
//     State   UInt16   s=Press7.State
//     Good    UInt32   s=Press7.Good
//     Reject  UInt32   s=Press7.Reject
//     Running Boolean  s=Press7.Running
//     Speed   Double   s=Press7.Speed
//
// The script, driven by this server's own timer from the moment it listens:
//   start:            State 1, Good 0, Reject 2, Running true, Speed 600.0
//   every 100 ms:     Good += 1 (source timestamp = now)
//   when Good == 20:  State 3 (fault), Running false, Speed 0.0; the timer stops and the values
//                     stay as they are: State 3, Good 20, Reject 2, Running false, Speed 0.0.
// Good counts ticks, not time, so the final values are exact however late the timer fires.
//
// stdout, one line each:  `CERT <sha256 hex of the server certificate's DER>` (the DER is also
// written to DIR/server_cert.der), `READY <endpoint url>` once listening, `DONE` when the script
// has ended. Security `basic256sha256` offers Basic256Sha256 Sign and SignAndEncrypt only; `none`
// offers None only. Client certificates are accepted without a trust list (this server tests
// the client's trust of the server, not the reverse). With --user, anonymous logins are refused.
// SIGTERM / SIGINT shut the server down and exit 0.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

// node-opcua logs with console.log: send that to stderr so stdout carries only the lines above.
// (A dynamic import, because static imports would load node-opcua before this line runs.)
console.log = console.error;
const { DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant } = await import(
  "node-opcua-client"
);
const { OPCUACertificateManager } = await import("node-opcua-certificate-manager");
const { OPCUAServer } = await import("node-opcua-server");

const NAMESPACE_URI = "urn:node-opcua:machine";
const DUMMY_NAMESPACE_URI = "urn:node-opcua:dummy";
const TICK_MS = 100;
const GOOD_FINAL = 20;
const SPEED_RUNNING = 600.0; // one part per 100 ms tick, in parts per minute

function fail(message) {
  process.stderr.write(`server.mjs: ${message}\n`);
  process.exit(2);
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      security: { type: "string", default: "none" },
      user: { type: "string" },
      pki: { type: "string" },
    },
  });
  const port = Number.parseInt(values.port ?? "", 10);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail("--port P is required");
  if (!["none", "basic256sha256"].includes(values.security)) {
    fail(`--security must be none or basic256sha256, not ${values.security}`);
  }
  let user = null;
  if (values.user !== undefined) {
    const at = values.user.indexOf(":");
    if (at <= 0) fail("--user must be NAME:PASS");
    user = { name: values.user.slice(0, at), password: values.user.slice(at + 1) };
  }
  return { port, security: values.security, user, pki: values.pki ?? null };
}

function securityOptions(security) {
  if (security === "none") {
    return { securityPolicies: [SecurityPolicy.None], securityModes: [MessageSecurityMode.None] };
  }
  return {
    securityPolicies: [SecurityPolicy.Basic256Sha256],
    securityModes: [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
  };
}

function buildMachine(addressSpace) {
  addressSpace.registerNamespace(DUMMY_NAMESPACE_URI);
  const ns = addressSpace.registerNamespace(NAMESPACE_URI);
  const line = ns.addFolder(addressSpace.rootFolder.objects, { browseName: "Line", nodeId: "s=Line" });
  const press = ns.addObject({ organizedBy: line, browseName: "Press7", nodeId: "s=Press7" });
  const vars = {};
  const add = (name, dataType) => {
    vars[name] = ns.addVariable({
      componentOf: press,
      browseName: name,
      nodeId: `s=Press7.${name}`,
      dataType,
      minimumSamplingInterval: TICK_MS,
    });
  };
  add("State", "UInt16");
  add("Good", "UInt32");
  add("Reject", "UInt32");
  add("Running", "Boolean");
  add("Speed", "Double");
  return vars;
}

function setter(vars) {
  return (name, dataType, value) => {
    const variant = new Variant({ dataType, value });
    vars[name].setValueFromSource(variant, StatusCodes.Good, new Date());
  };
}

function runScript(vars) {
  const set = setter(vars);
  let good = 0;
  set("State", DataType.UInt16, 1);
  set("Good", DataType.UInt32, good);
  set("Reject", DataType.UInt32, 2);
  set("Running", DataType.Boolean, true);
  set("Speed", DataType.Double, SPEED_RUNNING);
  const timer = setInterval(() => {
    good += 1;
    set("Good", DataType.UInt32, good);
    if (good < GOOD_FINAL) return;
    clearInterval(timer);
    set("State", DataType.UInt16, 3);
    set("Running", DataType.Boolean, false);
    set("Speed", DataType.Double, 0.0);
    process.stdout.write("DONE\n");
  }, TICK_MS);
}

async function makeServer({ port, security, user, pki }) {
  const certificateManager = new OPCUACertificateManager({
    rootFolder: join(pki, "server"),
    automaticallyAcceptUnknownCertificate: true,
    disableFileWatchers: true,
  });
  const server = new OPCUAServer({
    port,
    host: "127.0.0.1",
    hostname: "127.0.0.1",
    alternateHostname: ["127.0.0.1", "localhost"],
    resourcePath: "/UA/Machine",
    serverInfo: {
      applicationUri: "urn:node-opcua:machine-server",
      productUri: "urn:node-opcua:machine-server",
      applicationName: { text: "node-opcua machine", locale: "en" },
    },
    serverCertificateManager: certificateManager,
    allowAnonymous: user === null,
    userManager: user === null ? undefined : {
      isValidUser: (name, password) => name === user.name && password === user.password,
    },
    ...securityOptions(security),
  });
  await server.initialize();
  return server;
}

function publishCertificate(server, pki) {
  const der = server.getCertificate();
  writeFileSync(join(pki, "server_cert.der"), der);
  process.stdout.write(`CERT ${createHash("sha256").update(der).digest("hex")}\n`);
}

async function main() {
  const options = parseCli();
  const ownPki = options.pki === null;
  const pki = ownPki ? mkdtempSync(join(tmpdir(), "node-opcua-server-pki-")) : options.pki;
  const server = await makeServer({ ...options, pki });
  const vars = buildMachine(server.engine.addressSpace);
  await server.start();
  publishCertificate(server, pki);
  runScript(vars);
  process.stdout.write(`READY ${server.getEndpointUrl()}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 3000).unref(); // never hang a test's teardown
    await server.shutdown(0);
    if (ownPki) rmSync(pki, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => fail(err?.stack ?? String(err)));
