// node-opcua as an independent OPC UA client: reads (and browses) nodes, prints one JSON object.
//
//   node client.mjs --endpoint URL --read NODEID [--read NODEID ...] [--browse NODEID]
//                   [--security none|basic256sha256] [--mode sign|signandencrypt]
//                   [--user NAME:PASS] [--pki DIR] [--timeout SECONDS]
//
// NODEID is any node-opcua node id string (`ns=2;s=m1.State`, `i=2256`, ...) or the expanded form
// `nsu=URI;s=...`, resolved through the server's NamespaceArray. Output on stdout:
//
//   {"namespaces": [...NamespaceArray],
//    "values": {NODEID: {"value": ..., "status": "Good", "dataType": "UInt32",
//                        "arrayType": "Scalar", "sourceTimestamp": "2026-...Z" | null}},
//    "browse": [{"nodeId": "ns=2;s=m1", "browseName": "2:m1", "name": "m1",
//                "displayName": "m1", "nodeClass": "Object"}, ...]}
//
// "status" is the StatusCode's name (a Bad status is reported, not a failure); "browse" lists the
// forward hierarchical references of the --browse node ([] without --browse). Basic256Sha256 uses
// SignAndEncrypt unless --mode sign; the server's certificate is accepted without a trust list.
// The client's own certificate lives in DIR/client (--pki; a temp dir removed at exit otherwise).
// Any failure (connect, session, unknown namespace URI, bad node id, timeout, 10 s by default)
// exits non-zero with one line on stderr and nothing on stdout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

// node-opcua logs with console.log: send that to stderr so stdout carries only the JSON.
// (A dynamic import, because static imports would load node-opcua before this line runs.)
console.log = console.error;
const {
  AttributeIds,
  BrowseDirection,
  DataType,
  MessageSecurityMode,
  NodeClass,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  VariantArrayType,
  resolveNodeId,
} = await import("node-opcua-client");
const { OPCUACertificateManager } = await import("node-opcua-certificate-manager");

const APPLICATION_URI = "urn:oee-edge:interop:node-opcua-client";
let stage = "starting";
let cleanup = () => {};

function fail(message, code = 2) {
  process.stderr.write(`client.mjs: ${String(message).replace(/\s*\n\s*/g, " ")}\n`);
  cleanup();
  process.exit(code);
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      endpoint: { type: "string" },
      read: { type: "string", multiple: true, default: [] },
      browse: { type: "string" },
      security: { type: "string", default: "none" },
      mode: { type: "string", default: "signandencrypt" },
      user: { type: "string" },
      pki: { type: "string" },
      timeout: { type: "string", default: "10" },
    },
  });
  if (!values.endpoint) fail("--endpoint URL is required");
  if (values.read.length === 0 && values.browse === undefined) fail("nothing to do: give --read or --browse");
  const security = {
    none: { policy: SecurityPolicy.None, mode: MessageSecurityMode.None },
    basic256sha256: { policy: SecurityPolicy.Basic256Sha256, mode: null },
  }[values.security];
  if (!security) fail(`--security must be none or basic256sha256, not ${values.security}`);
  const modes = { sign: MessageSecurityMode.Sign, signandencrypt: MessageSecurityMode.SignAndEncrypt };
  if (!(values.mode in modes)) fail(`--mode must be sign or signandencrypt, not ${values.mode}`);
  security.mode ??= modes[values.mode];
  let user = null;
  if (values.user !== undefined) {
    const at = values.user.indexOf(":");
    if (at <= 0) fail("--user must be NAME:PASS");
    user = { userName: values.user.slice(0, at), password: values.user.slice(at + 1) };
  }
  const timeout = Number.parseFloat(values.timeout);
  if (!(timeout > 0)) fail(`--timeout must be a positive number of seconds, not ${values.timeout}`);
  return { ...values, security, user, timeout };
}

/** `nsu=URI;rest` -> `ns=INDEX;rest` through the server's NamespaceArray; other forms as given. */
function resolve(text, namespaces) {
  const expanded = /^nsu=([^;]*);(.+)$/.exec(text);
  let plain = text;
  if (expanded) {
    const index = namespaces.indexOf(expanded[1]);
    if (index < 0) {
      fail(`namespace ${expanded[1]} of ${text} is not in the server's NamespaceArray ${JSON.stringify(namespaces)}`);
    }
    plain = `ns=${index};${expanded[2]}`;
  }
  try {
    return resolveNodeId(plain);
  } catch (err) {
    return fail(`bad node id ${text}: ${err.message}`);
  }
}

function jsonValue(value, dataType) {
  if (value === null || value === undefined) return null;
  if (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) return Array.from(value);
  if (Array.isArray(value)) {
    // node-opcua holds a 64-bit integer as [high, low] 32-bit words
    if ((dataType === DataType.Int64 || dataType === DataType.UInt64) && value.length === 2) {
      return value[0] * 2 ** 32 + value[1];
    }
    return value.map((v) => jsonValue(v, dataType));
  }
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return value;
  if (dataType === DataType.NodeId || dataType === DataType.StatusCode) return value.toString();
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

function describe(dataValue) {
  const variant = dataValue.value;
  return {
    value: jsonValue(variant?.value, variant?.dataType),
    status: dataValue.statusCode.name,
    dataType: DataType[variant?.dataType ?? DataType.Null],
    arrayType: VariantArrayType[variant?.arrayType ?? VariantArrayType.Scalar],
    sourceTimestamp: dataValue.sourceTimestamp ? dataValue.sourceTimestamp.toISOString() : null,
  };
}

async function browseAll(session, nodeId) {
  let result = await session.browse({
    nodeId,
    referenceTypeId: "HierarchicalReferences",
    includeSubtypes: true,
    browseDirection: BrowseDirection.Forward,
    nodeClassMask: 0,
    resultMask: 0x3f,
  });
  if (result.statusCode.isNotGood()) fail(`browse ${nodeId.toString()}: ${result.statusCode.name}`);
  const refs = [...(result.references ?? [])];
  while (result.continuationPoint && result.continuationPoint.length > 0) {
    result = await session.browseNext(result.continuationPoint, false);
    refs.push(...(result.references ?? []));
  }
  return refs.map((ref) => ({
    nodeId: ref.nodeId.toString(),
    browseName: ref.browseName.toString(),
    name: ref.browseName.name,
    displayName: ref.displayName.text,
    nodeClass: NodeClass[ref.nodeClass],
  }));
}

async function query(session, options) {
  stage = "reading the NamespaceArray";
  const nsArray = await session.read({ nodeId: "i=2255", attributeId: AttributeIds.Value });
  const namespaces = nsArray.value.value ?? [];
  const nodeIds = options.read.map((text) => resolve(text, namespaces));
  stage = "reading";
  const dataValues = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
  const values = {};
  options.read.forEach((text, i) => {
    values[text] = describe(dataValues[i]);
  });
  let browse = [];
  if (options.browse !== undefined) {
    stage = `browsing ${options.browse}`;
    browse = await browseAll(session, resolve(options.browse, namespaces));
  }
  return { namespaces, values, browse };
}

async function main() {
  const options = parseCli();
  const ownPki = options.pki === undefined;
  const pki = ownPki ? mkdtempSync(join(tmpdir(), "node-opcua-client-pki-")) : options.pki;
  cleanup = () => ownPki && rmSync(pki, { recursive: true, force: true });
  setTimeout(() => fail(`timed out after ${options.timeout} s while ${stage}`, 3), options.timeout * 1000).unref();

  const client = OPCUAClient.create({
    applicationName: "oee-edge interop client",
    applicationUri: APPLICATION_URI,
    endpointMustExist: false,
    securityPolicy: options.security.policy,
    securityMode: options.security.mode,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: 20000,
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: join(pki, "client"),
      automaticallyAcceptUnknownCertificate: true,
      disableFileWatchers: true,
    }),
  });
  stage = `connecting to ${options.endpoint}`;
  await client.connect(options.endpoint);
  stage = "creating a session";
  const identity = options.user ? { type: UserTokenType.UserName, ...options.user } : undefined;
  const session = await client.createSession(identity);
  const result = await query(session, options);
  stage = "closing";
  await session.close();
  await client.disconnect();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  cleanup();
  process.exit(0);
}

main().catch((err) => fail(`${stage}: ${err?.message ?? String(err)}`));
