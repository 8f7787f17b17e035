// src/client/amounts.ts
var AmountError = class extends Error {
  name = "AmountError";
};
var MAX_AMOUNT = (1n << 64n) - 1n;
var LONGEST = 40;
function formatDecimal(amount, decimals) {
  const sign = amount < 0n ? "-" : "";
  const digits = (amount < 0n ? -amount : amount).toString();
  if (decimals === 0) return sign + digits;
  const padded = digits.padStart(decimals + 1, "0");
  return `${sign}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}
function formatAmount(amount, display) {
  const number = formatDecimal(amount, display.decimals);
  return display.unit === "" ? number : `${number} ${display.unit}`;
}
function parseAmount(text, display) {
  const trimmed = text.trim();
  const shown = trimmed.length > LONGEST ? `${trimmed.slice(0, LONGEST)}\u2026` : trimmed;
  if (trimmed.startsWith("-")) {
    throw new AmountError(`an amount cannot be negative, got "${shown}"`);
  }
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(trimmed);
  if (match === null) {
    throw new AmountError(`"${shown}" is not an amount: write a number such as ${example(display)}`);
  }
  const [, whole, fraction = ""] = match;
  if (fraction.length > display.decimals) {
    throw new AmountError(display.decimals === 0 ? `"${shown}" has decimal places, but this server counts in whole ${display.unit || "numbers"}` : `"${shown}" has more than the server's ${display.decimals} decimal places`);
  }
  const amount = trimmed.length > LONGEST ? MAX_AMOUNT + 1n : BigInt(whole + fraction.padEnd(display.decimals, "0"));
  if (amount > MAX_AMOUNT) {
    throw new AmountError(`"${shown}" is more than the largest amount, ${formatAmount(MAX_AMOUNT, display)}`);
  }
  return amount;
}
function describeUnit(display) {
  const places = display.decimals === 0 ? display.unit === "" ? "whole numbers" : `whole ${display.unit}` : `${display.unit === "" ? "numbers" : display.unit}, with ${display.decimals} decimal place${display.decimals === 1 ? "" : "s"}`;
  return `${places} (e.g. ${example(display)})`;
}
function example(display) {
  const scale = 10n ** BigInt(display.decimals);
  return formatDecimal(12n * scale + scale / 2n, display.decimals);
}

// src/wire/names.ts
var NAME_FIELD_SIZE = 32;
var DEFAULT_PORT = 2012;
var NameError = class extends Error {
  name = "NameError";
};
var USERNAME = /^[a-z0-9_-][a-z0-9_.-]{0,31}$/;
var USERNAME_RULES = "use 1-32 of a-z 0-9 _ - . (lower case, not starting with a dot, no two dots in a row)";
var DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
var DECIMAL = /^(0|[1-9][0-9]*)$/;
function isUsername(name) {
  return USERNAME.test(name) && !name.includes("..");
}
function parseServerAddress(address) {
  if (address.length === 0 || address.length > NAME_FIELD_SIZE) {
    throw new NameError(`server address must be 1-${NAME_FIELD_SIZE} bytes`);
  }
  const colon = address.indexOf(":");
  const host = colon === -1 ? address : address.slice(0, colon);
  const portText = colon === -1 ? void 0 : address.slice(colon + 1);
  if (!isHost(host)) throw new NameError(`invalid host in server address "${printable(address)}"`);
  if (portText === void 0) return {
    host,
    port: DEFAULT_PORT
  };
  const port = DECIMAL.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new NameError(`invalid port in server address "${printable(address)}"`);
  }
  return {
    host,
    port
  };
}
function canonicalAddress(address) {
  const { host, port } = parseServerAddress(address);
  return formatServerAddress({
    host,
    port
  });
}
function formatServerAddress(address) {
  return address.port === DEFAULT_PORT ? address.host : `${address.host}:${address.port}`;
}
function isCanonicalAddress(address) {
  try {
    return canonicalAddress(address) === address;
  } catch {
    return false;
  }
}
function isHost(host) {
  const labels = host.split(".");
  if (!labels.every((label) => DNS_LABEL.test(label))) return false;
  const numeric = labels.every((label) => /^[0-9]+$/.test(label));
  if (!numeric) return true;
  return labels.length === 4 && labels.every((l) => DECIMAL.test(l) && Number(l) <= 255);
}
function printable(text, max = 64) {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}
function parseAccountRef(text) {
  const at = text.lastIndexOf("@");
  if (at === -1) throw new NameError(`expected NAME@ADDRESS, got "${printable(text)}"`);
  const username = text.slice(0, at);
  if (!isUsername(username)) {
    throw new NameError(`invalid username "${printable(username)}": ${USERNAME_RULES}`);
  }
  return {
    username,
    address: canonicalAddress(text.slice(at + 1))
  };
}
function formatAccountRef(ref) {
  return `${ref.username}@${ref.address}`;
}

// src/wire/datagram.ts
var DATAGRAM_SIZE = 389;
var ARGUMENTS_SIZE = 256;
var SIGNATURE_SIZE = 32;
var SIGNED_SIZE = DATAGRAM_SIZE - SIGNATURE_SIZE;
var COMMAND_AT = 0;
var USERNAME_AT = 1;
var PEER_USERNAME_AT = 33;
var PEER_ADDRESS_AT = 65;
var ARGUMENTS_AT = 97;
var COUNTER_AT = 353;
var SIGNATURE_AT = 357;
var DatagramError = class extends Error {
  name = "DatagramError";
};
function decodeNameField(raw, field) {
  let end = raw.indexOf(0);
  if (end === -1) end = raw.length;
  for (let i = end; i < raw.length; i++) {
    if (raw[i] !== 0) throw new DatagramError(`${field} has bytes after its end`);
  }
  let text = "";
  for (let i = 0; i < end; i++) {
    if (raw[i] < 32 || raw[i] > 126) throw new DatagramError(`${field} has a non-ASCII byte`);
    text += String.fromCharCode(raw[i]);
  }
  return text;
}
function encodeDatagram(fields, signature) {
  if (fields.arguments.length !== ARGUMENTS_SIZE) {
    throw new DatagramError(`arguments must be ${ARGUMENTS_SIZE} bytes`);
  }
  if (signature.length !== SIGNATURE_SIZE) throw new DatagramError("signature must be 32 bytes");
  const bytes = new Uint8Array(DATAGRAM_SIZE);
  bytes[COMMAND_AT] = fields.command;
  writeName(bytes, USERNAME_AT, fields.username);
  writeName(bytes, PEER_USERNAME_AT, fields.peerUsername);
  writeName(bytes, PEER_ADDRESS_AT, fields.peerAddress);
  bytes.set(fields.arguments, ARGUMENTS_AT);
  new DataView(bytes.buffer).setUint32(COUNTER_AT, fields.counter);
  bytes.set(signature, SIGNATURE_AT);
  return bytes;
}
function writeName(bytes, at, text) {
  if (text.length > NAME_FIELD_SIZE) throw new DatagramError(`"${printable(text)}" is too long`);
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i) & 255;
}
function signedBytes(bytes) {
  return bytes.subarray(0, SIGNED_SIZE);
}

// src/auth/hmac.ts
var KEY_CACHE_SIZE = 1024;
var WebCryptoMac = class {
  #keys = /* @__PURE__ */ new Map();
  async sign(key, data) {
    return await hmacSign(await this.#import(key), data);
  }
  async verify(key, signature, data) {
    return await hmacVerify(await this.#import(key), signature, data);
  }
  #import(key) {
    const id = String.fromCharCode(...key);
    let cryptoKey = this.#keys.get(id);
    if (cryptoKey === void 0) {
      if (this.#keys.size >= KEY_CACHE_SIZE) this.#keys.delete(this.#keys.keys().next().value);
      cryptoKey = importHmacKey(key);
      this.#keys.set(id, cryptoKey);
    }
    return cryptoKey;
  }
};
function importHmacKey(key) {
  return crypto.subtle.importKey("raw", key, {
    name: "HMAC",
    hash: "SHA-256"
  }, false, [
    "sign",
    "verify"
  ]);
}
async function hmacSign(key, data) {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}
async function hmacVerify(key, signature, data) {
  if (signature.length !== SIGNATURE_SIZE) return false;
  return await crypto.subtle.verify("HMAC", key, signature, data);
}

// src/wire/layout.ts
var LABEL_SIZE = 3 * (4 + 1 + 2 * 32);
var SIZES = {
  u8: 1,
  u32: 4,
  u64: 8,
  i64: 8,
  id: 32,
  name: 32,
  label: LABEL_SIZE
};
var MAX_U64 = (1n << 64n) - 1n;
var MIN_I64 = -(1n << 63n);
var MAX_I64 = (1n << 63n) - 1n;
function layout(fields, total = ARGUMENTS_SIZE) {
  const entries = Object.entries(fields);
  const size = entries.reduce((sum, [, type]) => sum + SIZES[type], 0);
  const length = total === "exact" ? size : total;
  return {
    size,
    total: length,
    encode: (values) => encodeFields(entries, values, length),
    decode: (bytes) => decodeFields(entries, size, length, bytes)
  };
}
function encodeFields(entries, values, total) {
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const [name, type] of entries) {
    const value = values[name];
    if (type === "id" || type === "label") {
      const field = value;
      if (field.length !== SIZES[type]) {
        throw new DatagramError(`${name} must be ${SIZES[type]} bytes`);
      }
      bytes.set(field, at);
    } else if (type === "name") {
      const text = value;
      if (text.length > 32 || !/^[\x21-\x7e]*$/.test(text)) {
        throw new DatagramError(`${name} is not a short ASCII name`);
      }
      for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
    } else if (type === "u64" || type === "i64") {
      const n = value;
      const [min, max] = type === "u64" ? [
        0n,
        MAX_U64
      ] : [
        MIN_I64,
        MAX_I64
      ];
      if (typeof n !== "bigint" || n < min || n > max) {
        throw new DatagramError(`${name} out of range`);
      }
      if (type === "u64") view.setBigUint64(at, n);
      else view.setBigInt64(at, n);
    } else {
      const n = value;
      const max = type === "u8" ? 255 : 4294967295;
      if (!Number.isInteger(n) || n < 0 || n > max) throw new DatagramError(`${name} out of range`);
      if (type === "u8") view.setUint8(at, n);
      else view.setUint32(at, n);
    }
    at += SIZES[type];
  }
  return bytes;
}
function decodeFields(entries, size, total, bytes) {
  if (bytes.length !== total) {
    throw new DatagramError(`expected ${total} bytes of arguments, got ${bytes.length}`);
  }
  for (let i = size; i < total; i++) {
    if (bytes[i] !== 0) throw new DatagramError("arguments have bytes after their last field");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = {};
  let at = 0;
  for (const [name, type] of entries) {
    if (type === "id" || type === "label") values[name] = bytes.slice(at, at + SIZES[type]);
    else if (type === "name") values[name] = decodeNameField(bytes.subarray(at, at + 32), name);
    else if (type === "u64") values[name] = view.getBigUint64(at);
    else if (type === "i64") values[name] = view.getBigInt64(at);
    else if (type === "u32") values[name] = view.getUint32(at);
    else values[name] = view.getUint8(at);
    at += SIZES[type];
  }
  return values;
}

// src/wire/arguments.ts
var noArgs = layout({});
var amountArgs = layout({
  amount: "u64"
});
var paymentArgs = layout({
  id: "id",
  amount: "u64"
});
var paymentOutArgs = layout({
  id: "id",
  amount: "u64",
  label: "label",
  receipt: "u8"
});
var paymentInArgs = layout({
  id: "id",
  amount: "u64",
  secret: "id"
});
var committedArgs = layout({
  id: "id",
  amount: "u64",
  secret: "id"
});
var labelBody = layout({
  label: "label"
}, "exact");
var labelArgs = layout({
  label: "label",
  index0: "u32",
  index1: "u32",
  index2: "u32",
  ask: "u8"
});
var walkArgs = layout({
  id: "id",
  amount: "u64",
  hops: "u8",
  budget: "u32",
  tree: "u8",
  target: "label"
});
var walkReportArgs = layout({
  id: "id",
  amount: "u64",
  status: "u8",
  spent: "u32"
});
var paymentIdArgs = layout({
  id: "id"
});
var pageArgs = layout({
  offset: "u32"
});
var setTrustlineArgs = layout({
  amount: "u64",
  counter: "u32"
});
var getTrustlineArgs = layout({
  syncIn: "u32"
});
var trustlineCounterArgs = layout({
  counter: "u32"
});
var searchArgs = layout({
  id: "id",
  amount: "u64",
  front: "u8",
  round: "u8"
});
var searchReportArgs = layout({
  id: "id",
  amount: "u64",
  front: "u8",
  round: "u8",
  status: "u8"
});
var searchEndArgs = layout({
  id: "id",
  amount: "u64",
  front: "u8"
});
var commitArgs = layout({
  id: "id",
  amount: "u64",
  waitMs: "u64",
  claimMs: "u64",
  releaseMs: "u64",
  receipt: "u8"
});
var releasedArgs = layout({
  id: "id",
  amount: "u64",
  released: "u64"
});
var claimArgs = layout({
  id: "id",
  amount: "u64",
  released: "u64",
  secret: "id"
});
var abortArgs = layout({
  id: "id",
  amount: "u64",
  reason: "u8"
});
var trustlineInBody = layout({
  amount: "u64",
  syncIn: "u32",
  lastSync: "u64"
}, "exact");
var trustlineOutBody = layout({
  amount: "u64",
  counter: "u32",
  syncOut: "u32"
}, "exact");
var paymentBody = layout({
  state: "u8",
  amount: "u64",
  role: "u8",
  reason: "u8",
  updatedAt: "u64",
  waitKind: "u8",
  waitName: "name",
  waitAddress: "name",
  waitDue: "u64",
  overdue: "u8",
  released: "u64",
  endsBy: "u64",
  secret: "id"
}, "exact");
var balanceBody = layout({
  balance: "i64",
  lockedIn: "u64",
  lockedOut: "u64"
}, "exact");
var replayBody = layout({
  counter: "u32"
}, "exact");
var pageHeader = layout({
  total: "u32",
  count: "u32"
}, "exact");
var peerEntry = layout({
  username: "name",
  address: "name",
  trustlineOut: "u64",
  trustlineIn: "u64",
  balance: "i64"
}, "exact");
var paymentEntry = layout({
  id: "id",
  state: "u8",
  role: "u8",
  reason: "u8",
  amount: "u64",
  counterpartName: "name",
  counterpartAddress: "name",
  updatedAt: "u64"
}, "exact");
var serverInfoBody = layout({
  decimals: "u8",
  unit: "name",
  address: "name"
}, "exact");

// src/wire/response.ts
var Status = {
  Ok: 0,
  Malformed: 1,
  Unauthorized: 2,
  Replay: 3,
  UnknownPeer: 4,
  Refused: 5,
  Busy: 6,
  InternalError: 7
};
var STATUS_NAMES = [
  "ok",
  "malformed",
  "unauthorized",
  "replay",
  "unknown peer",
  "refused",
  "busy",
  "internal error"
];
function statusName(status) {
  return STATUS_NAMES[status] ?? `status ${status}`;
}
var RESPONSE_OVERHEAD = 3 + SIGNATURE_SIZE;
function responseMacInput(requestSignature, status, body) {
  const input = new Uint8Array(SIGNATURE_SIZE + 3 + body.length);
  input.set(requestSignature, 0);
  writeHeader(input, SIGNATURE_SIZE, status, body.length);
  input.set(body, SIGNATURE_SIZE + 3);
  return input;
}
function writeHeader(bytes, at, status, length) {
  bytes[at] = status;
  bytes[at + 1] = length >> 8;
  bytes[at + 2] = length & 255;
}
function responseLength(header) {
  return RESPONSE_OVERHEAD + (header[1] << 8 | header[2]);
}
function decodeResponse(bytes) {
  if (bytes.length < RESPONSE_OVERHEAD || bytes.length !== responseLength(bytes)) {
    throw new DatagramError(`response of ${bytes.length} bytes does not match its length field`);
  }
  const end = bytes.length - SIGNATURE_SIZE;
  return {
    status: bytes[0],
    body: bytes.slice(3, end),
    mac: bytes.slice(end)
  };
}

// src/client/client.ts
var ClientError = class extends Error {
  name = "ClientError";
  status;
  /** The server's own words, without the status name; may be empty. */
  detail;
  constructor(status, message) {
    super(message === "" ? statusName(status) : `${statusName(status)}: ${message}`);
    this.status = status;
    this.detail = message;
  }
};
var AuthenticationError = class extends Error {
  name = "AuthenticationError";
};
var ZERO_MAC = new Uint8Array(SIGNATURE_SIZE);
var decoder = new TextDecoder();
var Client = class {
  #options;
  #sign;
  #verify;
  constructor(options) {
    this.#options = options;
    const key = options.key;
    if (key instanceof Uint8Array) {
      const mac = options.mac ?? new WebCryptoMac();
      this.#sign = (data) => mac.sign(key, data);
      this.#verify = (signature, data) => mac.verify(key, signature, data);
    } else {
      this.#sign = (data) => hmacSign(key, data);
      this.#verify = (signature, data) => hmacVerify(key, signature, data);
    }
  }
  /** Sends one command and returns the answer, whatever its status. */
  async request(command, peer, args) {
    const once = () => this.#once(command, peer, args);
    const exclusive = this.#options.exclusive ?? ((exchange) => exchange());
    const answer = await exclusive(once);
    if (answer.status !== Status.Replay || !answer.authenticated) return answer;
    await this.#options.counters.recover(replayBody.decode(answer.body).counter);
    return await exclusive(once);
  }
  /** Sends one command and returns the body of an ok answer; throws {@linkcode ClientError} otherwise. */
  async call(command, peer, args) {
    const answer = await this.request(command, peer, args);
    if (answer.status !== Status.Ok) {
      throw new ClientError(answer.status, decoder.decode(answer.body));
    }
    return answer.body;
  }
  async #once(command, peer, args) {
    const fields = {
      command,
      username: this.#options.account,
      peerUsername: peer?.username ?? "",
      peerAddress: peer?.address ?? "",
      arguments: args,
      counter: await this.#options.counters.next()
    };
    const unsigned = encodeDatagram(fields, ZERO_MAC);
    const signature = await this.#sign(signedBytes(unsigned));
    const response = decodeResponse(await this.#options.exchange(this.#options.server, encodeDatagram(fields, signature)));
    if (isZero(response.mac)) {
      if (response.status === Status.Ok) {
        throw new AuthenticationError("an ok answer without a mac");
      }
      return {
        ...response,
        authenticated: false
      };
    }
    const input = responseMacInput(signature, response.status, response.body);
    if (!await this.#verify(response.mac, input)) {
      throw new AuthenticationError("the answer's mac does not match this request and key");
    }
    return {
      ...response,
      authenticated: true
    };
  }
};
function isZero(bytes) {
  return bytes.every((byte, i) => byte === ZERO_MAC[i]);
}

// src/wire/commands.ts
var ClientCommand = {
  SetTrustline: 0,
  SyncTrustlineIn: 1,
  SyncTrustlineOut: 2,
  GetTrustlineIn: 3,
  GetTrustlineOut: 4,
  NewPaymentOut: 5,
  NewPaymentIn: 6,
  GetPayment: 7,
  GetBalance: 8,
  ListPeers: 9,
  ListPayments: 10,
  ServerInfo: 11,
  GetLabel: 20
};
var ServerCommand = {
  SetTrustline: 128,
  GetTrustline: 129,
  SetSyncOut: 130,
  SetTimestamp: 131,
  Search: 132,
  SearchReport: 133,
  Lock: 134,
  Locked: 135,
  Commit: 136,
  Committed: 137,
  Query: 138,
  Finalize: 139,
  Finalized: 140,
  Abort: 141,
  SearchEnd: 142,
  Release: 143,
  Claim: 144,
  Settled: 145,
  Waiting: 146,
  Label: 150,
  Walk: 151,
  WalkReport: 152
};
var NAMES = new Map([
  ...Object.entries(ClientCommand).map(([name, n]) => [
    n,
    kebab(name)
  ]),
  ...Object.entries(ServerCommand).map(([name, n]) => [
    n,
    `server-${kebab(name)}`
  ])
]);
function kebab(name) {
  return name.replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "-") + c.toLowerCase());
}

// src/client/commands.ts
async function setTrustline(client, peer, amount) {
  await client.call(ClientCommand.SetTrustline, peer, amountArgs.encode({
    amount
  }));
}
async function getTrustlineOut(client, peer) {
  return trustlineOutBody.decode(await client.call(ClientCommand.GetTrustlineOut, peer, noArgs.encode({})));
}
async function newPaymentOut(client, seller, id, amount, label = new Uint8Array(LABEL_SIZE), receipt = false) {
  await client.call(ClientCommand.NewPaymentOut, seller, paymentOutArgs.encode({
    id,
    amount,
    label,
    receipt: receipt ? 1 : 0
  }));
}
async function getLabel(client) {
  return labelBody.decode(await client.call(ClientCommand.GetLabel, null, noArgs.encode({}))).label;
}
async function newPaymentIn(client, buyer, id, amount, secret = new Uint8Array(32)) {
  await client.call(ClientCommand.NewPaymentIn, buyer, paymentInArgs.encode({
    id,
    amount,
    secret
  }));
}
async function getPayment(client, id) {
  const body = paymentBody.decode(await client.call(ClientCommand.GetPayment, null, paymentIdArgs.encode({
    id
  })));
  const wait = body.waitKind === 0 ? null : {
    on: {
      username: body.waitName,
      address: body.waitAddress
    },
    kind: body.waitKind === 1 ? "answer" : "finalize",
    due: Number(body.waitDue),
    overdue: body.overdue === 1,
    released: body.released,
    endsBy: Number(body.endsBy)
  };
  return {
    state: body.state,
    amount: body.amount,
    role: body.role,
    reason: body.reason,
    updatedAt: Number(body.updatedAt),
    wait,
    receipt: body.secret.some((byte) => byte !== 0) ? body.secret : null
  };
}
async function listPeers(client, offset = 0) {
  const body = await client.call(ClientCommand.ListPeers, null, pageArgs.encode({
    offset
  }));
  const { total, entries } = decodePage(body, peerEntry);
  return {
    total,
    peers: entries.map((entry) => ({
      peer: {
        username: entry.username,
        address: entry.address
      },
      trustlineOut: entry.trustlineOut,
      trustlineIn: entry.trustlineIn,
      balance: entry.balance
    }))
  };
}
async function listPayments(client, offset = 0) {
  const body = await client.call(ClientCommand.ListPayments, null, pageArgs.encode({
    offset
  }));
  const { total, entries } = decodePage(body, paymentEntry);
  return {
    total,
    payments: entries.map((entry) => ({
      id: entry.id,
      state: entry.state,
      role: entry.role,
      reason: entry.reason,
      amount: entry.amount,
      counterpart: entry.counterpartName === "" ? null : {
        username: entry.counterpartName,
        address: entry.counterpartAddress
      },
      updatedAt: Number(entry.updatedAt)
    }))
  };
}
async function serverInfo(client) {
  const body = serverInfoBody.decode(await client.call(ClientCommand.ServerInfo, null, noArgs.encode({})));
  return {
    display: {
      unit: body.unit,
      decimals: body.decimals
    },
    address: body.address
  };
}
function decodePage(body, entry) {
  const header = pageHeader.decode(body.subarray(0, pageHeader.total));
  if (body.length !== pageHeader.total + header.count * entry.total) {
    throw new DatagramError("a list page whose length does not match its count");
  }
  const entries = [];
  for (let i = 0; i < header.count; i++) {
    const at = pageHeader.total + i * entry.total;
    entries.push(entry.decode(body.subarray(at, at + entry.total)));
  }
  return {
    total: header.total,
    entries
  };
}
var PAYMENT_STATES = [
  "unknown",
  "searching",
  "path found",
  "locking",
  "committing",
  "finalizing",
  "completed",
  "failed"
];
var PAYMENT_ROLES = [
  "",
  "buyer",
  "seller",
  "on the way"
];
function isFinalState(state) {
  return state === 6 || state === 7;
}

// src/wire/reasons.ts
var Reason = {
  None: 0,
  NoPath: 1,
  SearchTimeout: 2,
  NoCredit: 3,
  LockExpired: 4,
  Aborted: 5,
  Restarted: 6,
  NoRoute: 7,
  CommitMissing: 8,
  PeerPaymentsLimit: 9,
  PeerCreditLimit: 10,
  PeerLimits: 11,
  DeadlineTooShort: 12,
  Released: 13,
  PeerHoldsUp: 14,
  NoReceipt: 15,
  NoPathWithinHops: 20
};
var REASON_TEXT = {
  [Reason.None]: "",
  // The buyer's server cannot tell an id no seller announced from a path without credit.
  [Reason.NoPath]: "no path with enough credit from buyer to seller (check that the seller's receive came first, with this payment id and amount, and that the trustlines on the way have room)",
  [Reason.SearchTimeout]: "the search or the wait for the lock timed out (has the other side started its part?)",
  [Reason.NoCredit]: "not enough credit on the path when locking",
  [Reason.LockExpired]: "a lock expired before the payment was committed",
  [Reason.Aborted]: "aborted by a neighbour on the path",
  [Reason.Restarted]: "the server restarted during the search",
  [Reason.NoRoute]: "the lock took a route no search had prepared",
  [Reason.CommitMissing]: "the commit never reached the next account",
  [Reason.PeerPaymentsLimit]: "a neighbour on the path is at its limit for payments in flight",
  [Reason.PeerCreditLimit]: "an account on the path already holds as much credit in locks with a neighbour as it allows",
  [Reason.PeerLimits]: "no path within the limits accounts on the way set for each neighbour (payments in flight, credit held in locks, searches, payments held up)",
  [Reason.DeadlineTooShort]: "the deadlines carried with the commit do not suit an account on the path (too short for the path, or longer than it accepts)",
  [Reason.Released]: "the next account did not answer within the deadline, so the payment was released",
  [Reason.PeerHoldsUp]: "a neighbour on the path is holding up another payment (it left a commit unanswered), so no payment passes through towards it",
  [Reason.NoReceipt]: "the buyer asked for the seller's receipt, but the seller's side of the payment has none (its id was not made from a receipt secret)",
  [Reason.NoPathWithinHops]: "no path with enough credit within the search's hop limit (twice max_depth): the buyer's side explored everything that near without meeting the seller's"
};
function reasonText(reason) {
  return REASON_TEXT[reason] ?? `reason ${reason}`;
}

// src/web/words.ts
function standing(balance, peer, display) {
  if (balance === 0n) return "Even: neither owes the other";
  return balance > 0n ? `${peer} owes you ${formatAmount(balance, display)}` : `You owe ${peer} ${formatAmount(-balance, display)}`;
}
function paymentWords(status) {
  return {
    state: PAYMENT_STATES[status.state] ?? `state ${status.state}`,
    role: PAYMENT_ROLES[status.role] ?? "",
    reason: status.state === 7 ? reasonText(status.reason) : "",
    final: isFinalState(status.state)
  };
}
function errorText(error) {
  if (error instanceof ClientError) {
    switch (error.status) {
      case Status.Unauthorized:
        return "The server does not know this account with this key.";
      case Status.UnknownPeer:
        return "That account is not one of your peers.";
      case Status.Busy:
        return "The server is busy; try again in a moment.";
      case Status.InternalError:
        return "The server failed to store the change; tell its operator.";
      default:
        return sentence(`The server refused: ${error.detail || statusName(error.status)}`);
    }
  }
  if (error instanceof AuthenticationError) {
    return "The server's answer was not signed with your key; it cannot be trusted.";
  }
  if (error instanceof TypeError || error instanceof DOMException && error.name === "TimeoutError") {
    return "The server cannot be reached; check the connection and try again.";
  }
  return sentence(error instanceof Error ? error.message : String(error));
}
function sentence(text) {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

// src/web/dom.ts
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}
function fillRows(body, rows) {
  body.replaceChildren(...rows.map((cells) => {
    const row = document.createElement("tr");
    cells.forEach((content, i) => {
      const cell = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) cell.scope = "row";
      cell.append(content);
      row.append(cell);
    });
    return row;
  }));
}
function pageLink(text, hash) {
  const link = document.createElement("a");
  link.href = `#${hash}`;
  link.textContent = text;
  return link;
}
function onSubmit(form, action) {
  const error = form.querySelector(".error");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (error) error.textContent = "";
    if (button instanceof HTMLButtonElement) button.disabled = true;
    try {
      await action();
    } catch (caught) {
      if (error) error.textContent = errorText(caught);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  });
}
function showError(target, caught) {
  target.textContent = caught === null ? "" : errorText(caught);
}
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// src/web/key_link.ts
function keyLink(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const account = params.get("account");
  const key = params.get("key");
  return account === null || key === null ? null : {
    account,
    key
  };
}

// src/auth/keys.ts
var KeyError = class extends Error {
  name = "KeyError";
};
function parseKey(text) {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KeyError("a key is 64 lower-case hex characters");
  return fromHex(hex);
}
function toHex(bytes) {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
function fromHex(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new KeyError("not hex");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// src/web/storage.ts
var DB_NAME = "ripple-wallet";
var DB_VERSION = 1;
var ACCOUNT_STORE = "account";
var COUNTER_STORE = "counters";
var ACCOUNT_RECORD = "me";
function openWalletDb() {
  const opening = indexedDB.open(DB_NAME, DB_VERSION);
  opening.onupgradeneeded = () => {
    opening.result.createObjectStore(ACCOUNT_STORE);
    opening.result.createObjectStore(COUNTER_STORE);
  };
  return done(opening);
}
async function loadAccount(db) {
  const tx = db.transaction(ACCOUNT_STORE, "readonly");
  const record = await done(tx.objectStore(ACCOUNT_STORE).get(ACCOUNT_RECORD));
  return record === void 0 ? null : record;
}
async function saveAccount(db, account) {
  const tx = db.transaction(ACCOUNT_STORE, "readwrite", {
    durability: "strict"
  });
  tx.objectStore(ACCOUNT_STORE).put(account, ACCOUNT_RECORD);
  await committed(tx);
}
async function forgetAccount(db) {
  const tx = db.transaction(ACCOUNT_STORE, "readwrite", {
    durability: "strict"
  });
  tx.objectStore(ACCOUNT_STORE).delete(ACCOUNT_RECORD);
  await committed(tx);
}
var IdbCounterStore = class {
  #db;
  #username;
  constructor(db, username) {
    this.#db = db;
    this.#username = username;
  }
  next() {
    return this.#update((last) => last + 1);
  }
  async recover(lastAccepted) {
    await this.#update((last) => Math.max(last, lastAccepted));
  }
  async #update(change) {
    const tx = this.#db.transaction(COUNTER_STORE, "readwrite", {
      durability: "strict"
    });
    const store = tx.objectStore(COUNTER_STORE);
    let counter = 0;
    const reading = store.get(this.#username);
    reading.onsuccess = () => {
      counter = change(typeof reading.result === "number" ? reading.result : 0);
      store.put(counter, this.#username);
    };
    await committed(tx);
    return counter;
  }
};
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("the transaction was aborted"));
  });
}

// src/web/key_page.ts
function keyPage(options) {
  const form = byId("key-form", HTMLFormElement);
  const accountInput = byId("key-account", HTMLInputElement);
  const keyInput = byId("key-key", HTMLInputElement);
  const submit = async () => {
    const username = accountInput.value.trim();
    if (!isUsername(username)) {
      throw new Error(`that is not an account name: ${USERNAME_RULES}`);
    }
    const raw = parseKey(keyInput.value);
    const account = {
      username,
      key: await importHmacKey(raw)
    };
    raw.fill(0);
    const wallet = await options.connect(account);
    await saveAccount(options.db, account);
    keyInput.value = "";
    options.opened(wallet);
  };
  onSubmit(form, submit);
  return {
    enter() {
      accountInput.focus();
    },
    fromLink(hash) {
      const link = keyLink(hash);
      if (link === null) return;
      history.replaceState(null, "", location.pathname);
      accountInput.value = link.account;
      keyInput.value = link.key;
      form.requestSubmit();
    }
  };
}

// src/client/invoice.ts
var InvoiceError = class extends Error {
  name = "InvoiceError";
};
var SCHEME = "ripple:";
var MAX_U642 = (1n << 64n) - 1n;
function formatInvoice(invoice) {
  const label = invoice.label === void 0 ? "" : `&label=${formatLabel(invoice.label)}`;
  const receipt = invoice.receipt === true ? "&receipt=1" : "";
  return `${SCHEME}${formatAccountRef(invoice.seller)}?amount=${invoice.amount}&id=${toHex(invoice.id)}${label}${receipt}`;
}
function formatLabel(label) {
  let end = label.length;
  while (end > 0 && label[end - 1] === 0) end--;
  let binary = "";
  for (const byte of label.subarray(0, end)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
function parseLabel(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new InvoiceError("the label is base64url (A-Z a-z 0-9 - _)");
  }
  let binary;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw new InvoiceError("the label is not base64url");
  }
  if (binary.length > LABEL_SIZE) throw new InvoiceError("the label is too long");
  const label = new Uint8Array(LABEL_SIZE);
  for (let i = 0; i < binary.length; i++) label[i] = binary.charCodeAt(i);
  return label;
}
function parseInvoice(text) {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SCHEME)) throw new InvoiceError(`an invoice starts with "${SCHEME}"`);
  const [sellerText, query, ...rest] = trimmed.slice(SCHEME.length).split("?");
  if (query === void 0 || rest.length > 0) {
    throw new InvoiceError("an invoice is ripple:SELLER?amount=AMOUNT&id=ID");
  }
  let seller;
  try {
    seller = parseAccountRef(sellerText);
  } catch (error) {
    throw new InvoiceError(`the seller: ${error instanceof Error ? error.message : error}`);
  }
  const fields = /* @__PURE__ */ new Map();
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (fields.has(name)) throw new InvoiceError(`"${name}" appears twice`);
    fields.set(name, eq === -1 ? "" : pair.slice(eq + 1));
  }
  const amountText = fields.get("amount") ?? "";
  const idText = fields.get("id") ?? "";
  const labelText = fields.get("label");
  const receiptText = fields.get("receipt");
  const optional = (labelText === void 0 ? 0 : 1) + (receiptText === void 0 ? 0 : 1);
  if (fields.size !== 2 + optional || !fields.has("id")) {
    throw new InvoiceError("an invoice has an amount, an id and maybe a label and a receipt, nothing else");
  }
  if (receiptText !== void 0 && receiptText !== "1") {
    throw new InvoiceError("receipt is 1 when given");
  }
  if (!/^[1-9][0-9]*$/.test(amountText) || BigInt(amountText) > MAX_U642) {
    throw new InvoiceError("the amount is a whole number above zero");
  }
  if (!/^[0-9a-f]{64}$/.test(idText)) {
    throw new InvoiceError("the payment id is 64 lower-case hex characters");
  }
  const invoice = {
    seller,
    amount: BigInt(amountText),
    id: fromHex(idText)
  };
  if (labelText !== void 0) invoice.label = parseLabel(labelText);
  if (receiptText !== void 0) invoice.receipt = true;
  return invoice;
}

// src/web/table_page.ts
async function allEntries(page) {
  const entries = [];
  for (; ; ) {
    const next = await page(entries.length);
    entries.push(...next.entries);
    if (next.entries.length === 0 || entries.length >= next.total) return entries;
  }
}
function tablePage(name, load, row) {
  const body = byId(`${name}-rows`, HTMLTableSectionElement);
  const empty = byId(`${name}-empty`, HTMLParagraphElement);
  const error = byId(`${name}-error`, HTMLParagraphElement);
  const refresh = byId(`${name}-refresh`, HTMLButtonElement);
  const show2 = async () => {
    refresh.disabled = true;
    body.setAttribute("aria-busy", "true");
    try {
      const entries = await load();
      fillRows(body, entries.map(row));
      empty.hidden = entries.length > 0;
      showError(error, null);
    } catch (caught) {
      showError(error, caught);
    } finally {
      refresh.disabled = false;
      body.removeAttribute("aria-busy");
    }
  };
  refresh.addEventListener("click", show2);
  return {
    enter: show2
  };
}

// src/web/peers_page.ts
function allPeers(client) {
  return allEntries(async (offset) => {
    const page = await listPeers(client, offset);
    return {
      total: page.total,
      entries: page.peers
    };
  });
}
function peersPage(wallet) {
  return tablePage("peers", () => allPeers(wallet.client), (p) => {
    const name = formatAccountRef(p.peer);
    return [
      name,
      formatAmount(p.trustlineOut, wallet.display),
      formatAmount(p.trustlineIn, wallet.display),
      standing(p.balance, name, wallet.display)
    ];
  });
}
var CONFIRM_WAIT_MS = 1e4;
function trustlinePage(wallet) {
  const form = byId("trustline-form", HTMLFormElement);
  const peerInput = byId("trustline-peer", HTMLInputElement);
  const amountInput = byId("trustline-amount", HTMLInputElement);
  const names = byId("peer-names", HTMLDataListElement);
  const status = byId("trustline-status", HTMLParagraphElement);
  let shown = 0;
  onSubmit(form, async () => {
    status.textContent = "";
    const peer = peerArg(peerInput.value);
    const amount = parseAmount(amountInput.value, wallet.display);
    await setTrustline(wallet.client, peer, amount);
    const name = formatAccountRef(peer);
    const visit = ++shown;
    status.textContent = `Trustline to ${name} set to ${formatAmount(amount, wallet.display)}; waiting for ${name}'s server to confirm it.`;
    const end = Date.now() + CONFIRM_WAIT_MS;
    while (visit === shown && Date.now() < end) {
      const line = await getTrustlineOut(wallet.client, peer);
      if (line.syncOut === line.counter) {
        status.textContent = `Trustline to ${name}: ${formatAmount(line.amount, wallet.display)}, confirmed by ${name}'s server.`;
        return;
      }
      await sleep(250);
    }
    if (visit === shown) {
      status.textContent = `Trustline to ${name} set; ${name}'s server has not confirmed it yet. Your server keeps sending it until it does.`;
    }
  });
  return {
    async enter() {
      status.textContent = "";
      const peers = await allPeers(wallet.client).catch(() => []);
      names.replaceChildren(...peers.map((p) => new Option(formatAccountRef(p.peer))));
    },
    leave() {
      shown++;
    }
  };
}
function peerArg(text) {
  try {
    return parseAccountRef(text.trim());
  } catch (error) {
    if (error instanceof NameError) throw new NameError(`${error.message}; a peer is name@server`);
    throw error;
  }
}

// src/web/payment_pages.ts
var POLL_MS = 400;
function paymentAmount(text, display) {
  const amount = parseAmount(text, display);
  if (amount === 0n) throw new AmountError("a payment is of more than zero");
  return amount;
}
function followPayment(client, id, show2, onError) {
  let following = true;
  (async () => {
    while (following) {
      try {
        const status = await getPayment(client, id);
        const words = paymentWords(status);
        if (!following) return;
        const text = status.state === 0 ? "unknown to this account" : `${words.state}${words.reason ? `: ${words.reason}` : ""}`;
        show2(text, status.state === 7, status);
        onError(null);
        if (words.final || status.state === 0) return;
      } catch (caught) {
        onError(caught);
      }
      await sleep(POLL_MS);
    }
  })();
  return () => following = false;
}
function receivePage(wallet) {
  const form = byId("receive-form", HTMLFormElement);
  const result = byId("receive-result", HTMLDivElement);
  const invoiceText = byId("receive-invoice", HTMLTextAreaElement);
  const copy = byId("receive-copy", HTMLButtonElement);
  const copied = byId("receive-copied", HTMLParagraphElement);
  const state = byId("receive-state", HTMLSpanElement);
  const error = byId("receive-error", HTMLParagraphElement);
  const follow = byId("receive-follow", HTMLAnchorElement);
  byId("receive-wait", HTMLSpanElement).textContent = String(Math.round(wallet.info.searchTimeoutMs / 1e3));
  let stop = () => {
  };
  onSubmit(form, async () => {
    stop();
    const buyer = peerArg(byId("receive-buyer", HTMLInputElement).value);
    const amount = paymentAmount(byId("receive-amount", HTMLInputElement).value, wallet.display);
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const id = new Uint8Array(await crypto.subtle.digest("SHA-256", secret));
    const label = await getLabel(wallet.client);
    await newPaymentIn(wallet.client, buyer, id, amount, secret);
    invoiceText.value = formatInvoice({
      seller: wallet.me,
      amount,
      id,
      label,
      receipt: true
    });
    byId("receive-id", HTMLElement).textContent = toHex(id);
    follow.href = `#payment/${toHex(id)}`;
    copied.textContent = "";
    result.hidden = false;
    stop = followPayment(wallet.client, id, (text) => state.textContent = text, (caught) => showError(error, caught));
    invoiceText.focus();
    invoiceText.select();
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(invoiceText.value);
      copied.textContent = "Invoice copied.";
    } catch {
      invoiceText.select();
      copied.textContent = "Copying is not allowed here; the invoice is selected, copy it by hand.";
    }
  });
  return {
    enter() {
    },
    leave() {
      stop();
    }
  };
}
function payPage(wallet) {
  const form = byId("pay-form", HTMLFormElement);
  const invoice = byId("pay-invoice", HTMLTextAreaElement);
  const seller = byId("pay-seller", HTMLInputElement);
  const amount = byId("pay-amount", HTMLInputElement);
  const idInput = byId("pay-id", HTMLInputElement);
  const error = byId("pay-error", HTMLParagraphElement);
  let pasted = null;
  invoice.addEventListener("input", () => {
    pasted = null;
    if (invoice.value.trim() === "") return showError(error, null);
    try {
      const parsed = parseInvoice(invoice.value);
      pasted = {
        seller: formatAccountRef(parsed.seller),
        id: toHex(parsed.id),
        label: parsed.label,
        receipt: parsed.receipt === true
      };
      seller.value = formatAccountRef(parsed.seller);
      amount.value = formatDecimal(parsed.amount, wallet.display.decimals);
      idInput.value = toHex(parsed.id);
      showError(error, null);
    } catch (caught) {
      showError(error, caught);
    }
  });
  onSubmit(form, async () => {
    const to = peerArg(seller.value);
    const value = paymentAmount(amount.value, wallet.display);
    const idText = idInput.value.trim();
    if (!/^[0-9a-f]{64}$/.test(idText)) {
      throw new Error("the payment id is 64 lower-case hex characters, as the seller gave it");
    }
    const same = pasted !== null && pasted.seller === formatAccountRef(to) && pasted.id === idText;
    const label = same ? pasted.label : void 0;
    await newPaymentOut(wallet.client, to, fromHex(idText), value, label, same && pasted.receipt);
    form.reset();
    location.hash = `#payment/${idText}`;
  });
  return {
    enter() {
    }
  };
}
function party(payment) {
  if (payment.counterpart === null) return paymentWords(payment).role;
  return `${payment.role === 2 ? "from" : "to"} ${formatAccountRef(payment.counterpart)}`;
}
function paymentsPage(wallet) {
  const load = () => allEntries(async (offset) => {
    const page = await listPayments(wallet.client, offset);
    return {
      total: page.total,
      entries: page.payments
    };
  });
  return tablePage("payments", load, (p) => {
    const words = paymentWords(p);
    const hex = toHex(p.id);
    return [
      pageLink(`${hex.slice(0, 12)}\u2026`, `payment/${hex}`),
      party(p),
      formatAmount(p.amount, wallet.display),
      `${words.state}${words.reason ? `: ${words.reason}` : ""}`
    ];
  });
}
function paymentPage(wallet) {
  const idText = byId("payment-id", HTMLElement);
  const role = byId("payment-role", HTMLElement);
  const amount = byId("payment-amount", HTMLElement);
  const state = byId("payment-state", HTMLElement);
  const receiptRow = byId("payment-receipt-row", HTMLElement);
  const receipt = byId("payment-receipt", HTMLElement);
  const error = byId("payment-error", HTMLParagraphElement);
  let stop = () => {
  };
  return {
    async enter(arg) {
      stop();
      for (const field of [
        role,
        amount,
        state,
        receipt
      ]) field.textContent = "";
      receiptRow.hidden = true;
      idText.textContent = arg;
      if (!/^[0-9a-f]{64}$/.test(arg)) {
        return showError(error, new Error("that is not a payment id"));
      }
      const id = fromHex(arg);
      try {
        const first = await getPayment(wallet.client, id);
        role.textContent = paymentWords(first).role;
        amount.textContent = first.state === 0 ? "" : formatAmount(first.amount, wallet.display);
      } catch (caught) {
        return showError(error, caught);
      }
      stop = followPayment(wallet.client, id, (text, failed, status) => {
        state.textContent = text;
        state.classList.toggle("failed", failed);
        receiptRow.hidden = status.receipt === null;
        receipt.textContent = status.receipt === null ? "" : toHex(status.receipt);
      }, (caught) => showError(error, caught));
    },
    leave() {
      stop();
    }
  };
}

// src/web/server_link.ts
var HttpError = class extends Error {
  name = "HttpError";
  status;
  constructor(status) {
    super(`the server answered HTTP ${status}`);
    this.status = status;
  }
};
function httpExchange(timeoutMs) {
  return async (_address, request) => {
    const response = await fetch("/datagram", {
      method: "POST",
      headers: {
        "Content-Type": "application/octet-stream"
      },
      body: request,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(timeoutMs)
    });
    if (!response.ok) throw new HttpError(response.status);
    return new Uint8Array(await response.arrayBuffer());
  };
}
async function fetchWalletInfo(timeoutMs) {
  const response = await fetch("/server.json", {
    cache: "no-store",
    credentials: "omit",
    signal: AbortSignal.timeout(timeoutMs)
  });
  if (!response.ok) throw new HttpError(response.status);
  return parseWalletInfo(await response.json());
}
function parseWalletInfo(json) {
  const info = json;
  if (typeof info?.address !== "string" || !isCanonicalAddress(info.address) || typeof info.searchTimeoutMs !== "number" || !(info.searchTimeoutMs > 0)) {
    throw new Error("the server's /server.json is not what this page expects");
  }
  return {
    address: info.address,
    searchTimeoutMs: info.searchTimeoutMs
  };
}

// src/web/wallet.ts
var REQUEST_TIMEOUT_MS = 1e4;
var PAGES = [
  "peers",
  "trustline",
  "receive",
  "pay",
  "payments",
  "payment"
];
var HOME = "peers";
async function start() {
  const loading = byId("loading", HTMLParagraphElement);
  let info;
  let db;
  try {
    [info, db] = await Promise.all([
      fetchWalletInfo(REQUEST_TIMEOUT_MS),
      openWalletDb()
    ]);
  } catch (caught) {
    loading.textContent = `The wallet cannot start. ${errorText(caught)}`;
    return;
  }
  const connect = async (account) => {
    const client = new Client({
      server: info.address,
      account: account.username,
      key: account.key,
      counters: new IdbCounterStore(db, account.username),
      exchange: httpExchange(REQUEST_TIMEOUT_MS),
      // One exchange at a time across the account's tabs: their counters arrive in order.
      exclusive: (exchange) => navigator.locks.request(`ripple-${account.username}`, exchange)
    });
    const { display } = await serverInfo(client);
    return {
      client,
      me: {
        username: account.username,
        address: info.address
      },
      info,
      display
    };
  };
  const key = keyPage({
    db,
    connect,
    opened: (wallet) => showWallet(wallet, db)
  });
  const link = keyLink(location.hash);
  const stored = link === null ? await loadAccount(db) : null;
  if (stored !== null) {
    try {
      const wallet = await connect(stored);
      loading.hidden = true;
      return showWallet(wallet, db);
    } catch (caught) {
      if (!(caught instanceof ClientError && caught.status === Status.Unauthorized)) {
        loading.textContent = `The wallet cannot reach your server. ${errorText(caught)}`;
        return;
      }
      byId("key-error", HTMLParagraphElement).textContent = errorText(caught);
    }
  }
  loading.hidden = true;
  show("key", key, "");
  if (link !== null) key.fromLink(location.hash);
}
function showWallet(wallet, db) {
  const pages = {
    peers: peersPage(wallet),
    trustline: trustlinePage(wallet),
    receive: receivePage(wallet),
    pay: payPage(wallet),
    payments: paymentsPage(wallet),
    payment: paymentPage(wallet)
  };
  byId("me", HTMLParagraphElement).textContent = formatAccountRef(wallet.me);
  for (const help of document.querySelectorAll(".unit-help")) {
    help.textContent = `In ${describeUnit(wallet.display)}.`;
  }
  for (const id of [
    "me",
    "nav",
    "forget"
  ]) byId(id, HTMLElement).hidden = false;
  byId("forget", HTMLButtonElement).addEventListener("click", async () => {
    if (!confirm("Forget the key on this device? You will need it again to use the wallet here.")) {
      return;
    }
    await forgetAccount(db);
    location.hash = "";
    location.reload();
  });
  const route = () => {
    const [name, arg = ""] = location.hash.replace(/^#/, "").split("/");
    const known = PAGES.includes(name) ? name : HOME;
    show(known, pages[known], arg);
  };
  addEventListener("hashchange", route);
  route();
}
var current = null;
function show(name, page, arg) {
  current?.leave?.();
  current = page;
  for (const section of document.querySelectorAll("main > section")) {
    section.hidden = section.id !== `page-${name}`;
  }
  for (const link of document.querySelectorAll("nav a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const heading = document.querySelector(`#page-${name} h1`);
  document.title = `${heading?.textContent ?? "ripple"} \xB7 ripple wallet`;
  heading?.focus();
  void page.enter(arg);
}
start();
