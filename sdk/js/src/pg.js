// A PostgreSQL client for WarpGrid services, API-compatible with the common
// subset of npm `pg` (Pool, Client, query, release, end), written on the
// SDK's `database` so that one code path runs natively (TCP from Node.js)
// and inside a component (warp's pooled database proxy). npm `pg` itself
// cannot be packed: it needs `node:net` and `node:crypto`.
//
// It speaks the frontend/backend protocol 3.0: trust, cleartext, MD5 and
// SCRAM-SHA-256 logins; queries without parameters as simple queries,
// with parameters through the extended protocol (Parse, Bind, Describe,
// Execute, Sync), every value in text format. TLS is not spoken here:
// inside a component the proxy encrypts (`tls = true` in the
// `[[shims.database]]` entry); natively the connection is plain TCP.
//
// The hashes SCRAM and MD5 need are written out in plain JS because neither
// `node:crypto` nor `crypto.subtle` is available in both places (only
// `crypto.getRandomValues` is, for the nonce).

import { database } from '#platform';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `data` as bytes: strings are UTF-8. */
function bytesOf(data) {
  if (typeof data === 'string') return encoder.encode(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// ---------------------------------------------------------------- hashes

const K256 = Uint32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);
const SHA256_IV = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
);

/**
 * SHA-256's compression of one block into `state` (8 words): `w` holds the
 * block's 16 words and room for the 48 more of the schedule. Written with
 * plain locals: StarlingMonkey interprets it (no JIT), 8192 times a SCRAM login.
 */
function compress(state, w) {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

/** Compresses the 64-byte block of `bytes` at `offset` (big-endian words). */
function compressBytes(state, bytes, offset, w) {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
  }
  compress(state, w);
}

const wordsToBytes = (words) => {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((v, i) => view.setInt32(i * 4, v));
  return out;
};

/**
 * SHA-256 of `data`, continuing from `state` after `absorbed` bytes (a
 * multiple of 64): HMAC starts from its key's absorbed pads.
 */
function sha256From(state, absorbed, data) {
  const s = Int32Array.from(state);
  const padded = new Uint8Array((data.length + 72) & ~63);
  padded.set(data);
  padded[data.length] = 0x80;
  const bits = (absorbed + data.length) * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const w = new Int32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) compressBytes(s, padded, offset, w);
  return wordsToBytes(s);
}

/** SHA-256 of `data` (bytes or a string, UTF-8). */
export function sha256(data) {
  return sha256From(SHA256_IV, 0, bytesOf(data));
}

/** An HMAC-SHA256 key: the states after its inner and outer pads. */
function hmacKey(key) {
  let k = bytesOf(key);
  if (k.length > 64) k = sha256(k);
  const [inner, outer] = [0x36, 0x5c].map((pad) => {
    const block = new Uint8Array(64).fill(pad);
    k.forEach((b, i) => (block[i] ^= b));
    const state = Int32Array.from(SHA256_IV);
    compressBytes(state, block, 0, new Int32Array(64));
    return state;
  });
  return { inner, outer };
}

const hmacWith = (key, data) => sha256From(key.outer, 64, sha256From(key.inner, 64, data));

/** HMAC-SHA256 (RFC 2104) of `data` under `key`. */
export function hmacSha256(key, data) {
  return hmacWith(hmacKey(key), bytesOf(data));
}

/**
 * Replaces `u` (a 32-byte digest, as words) with its hash continued from
 * `state` after a 64-byte pad: one block, u then 0x80, zeros and the
 * length (96 bytes). HMAC is this from the inner, then the outer pad.
 */
function hashDigest(u, state, w) {
  for (let j = 0; j < 8; j++) w[j] = u[j];
  w[8] = 0x80000000 | 0;
  for (let j = 9; j < 15; j++) w[j] = 0;
  w[15] = (64 + 32) * 8;
  for (let j = 0; j < 8; j++) u[j] = state[j];
  compress(u, w);
}

/**
 * PBKDF2-HMAC-SHA256 (RFC 8018): `length` bytes derived from `password`.
 * Past the first, each iteration is two one-block hashes on words, with
 * nothing allocated.
 */
export function pbkdf2Sha256(password, salt, iterations, length = 32) {
  const key = hmacKey(password);
  const saltBytes = bytesOf(salt);
  const out = new Uint8Array(length);
  const [u, t, w] = [new Int32Array(8), new Int32Array(8), new Int32Array(64)];
  for (let block = 1, at = 0; at < length; block++, at += 32) {
    const first = new Uint8Array(saltBytes.length + 4);
    first.set(saltBytes);
    new DataView(first.buffer).setUint32(saltBytes.length, block);
    const digest = new DataView(hmacWith(key, first).buffer);
    for (let j = 0; j < 8; j++) t[j] = u[j] = digest.getInt32(j * 4);
    for (let i = 1; i < iterations; i++) {
      hashDigest(u, key.inner, w);
      hashDigest(u, key.outer, w);
      for (let j = 0; j < 8; j++) t[j] ^= u[j];
    }
    out.set(wordsToBytes(t).subarray(0, Math.min(32, length - at)), at);
  }
  return out;
}

const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

/** MD5 (RFC 1321) of `data`: only for Postgres's `md5` logins. */
export function md5(data) {
  const input = bytesOf(data);
  const padded = new Uint8Array((input.length + 72) & ~63);
  padded.set(input);
  padded[input.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = input.length * 8;
  view.setUint32(padded.length - 8, bits >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bits / 2 ** 32), true);
  const h = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
  const m = new Int32Array(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getInt32(offset + i * 4, true);
    let [a, b, c, d] = h;
    for (let i = 0; i < 64; i++) {
      const round = i >> 4;
      const f =
        round === 0 ? (b & c) | (~b & d) : round === 1 ? (d & b) | (~d & c) : round === 2 ? b ^ c ^ d : c ^ (b | ~d);
      const g = round === 0 ? i : round === 1 ? (5 * i + 1) & 15 : round === 2 ? (3 * i + 5) & 15 : (7 * i) & 15;
      const s = MD5_SHIFTS[round * 4 + (i & 3)];
      const x = (a + f + MD5_K[i] + m[g]) | 0;
      [a, d, c, b] = [d, c, b, (b + ((x << s) | (x >>> (32 - s)))) | 0];
    }
    [a, b, c, d].forEach((v, i) => (h[i] += v));
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setInt32(i * 4, v, true));
  return out;
}

/** The hashes, for tests and for code that needs them without `crypto.subtle`. */
export const hashes = { sha256, hmacSha256, pbkdf2Sha256, md5 };

// ---------------------------------------------------------------- wire format

const int16 = (n) => Uint8Array.of((n >> 8) & 255, n & 255);
const int32 = (n) => Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
const cstring = (text) => concat([encoder.encode(text), Uint8Array.of(0)]);

/** A frontend message: its type byte (none for the startup), length, body. */
function message(type, ...parts) {
  const body = concat(parts);
  const head = type ? [encoder.encode(type)] : [];
  return concat([...head, int32(body.length + 4), body]);
}

/** Reads a backend message's body. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
  }
  int16() {
    this.at += 2;
    return this.view.getInt16(this.at - 2);
  }
  int32() {
    this.at += 4;
    return this.view.getInt32(this.at - 4);
  }
  cstring() {
    const end = this.bytes.indexOf(0, this.at);
    const text = decoder.decode(this.bytes.subarray(this.at, end));
    this.at = end + 1;
    return text;
  }
  take(n) {
    this.at += n;
    return this.bytes.subarray(this.at - n, this.at);
  }
  rest() {
    return this.take(this.bytes.length - this.at);
  }
}

// ---------------------------------------------------------------- errors

/** An ErrorResponse from the server, shaped like pg's `DatabaseError`. */
export class DatabaseError extends Error {
  constructor(fields) {
    super(fields.M ?? 'unknown error from the server');
    this.name = 'error';
    Object.assign(this, {
      severity: fields.S,
      code: fields.C,
      detail: fields.D,
      hint: fields.H,
      position: fields.P,
      internalPosition: fields.p,
      internalQuery: fields.q,
      where: fields.W,
      schema: fields.s,
      table: fields.t,
      column: fields.c,
      dataType: fields.d,
      constraint: fields.n,
      file: fields.F,
      line: fields.L,
      routine: fields.R,
    });
  }
}

/** The fields of an ErrorResponse or NoticeResponse, by their code letter. */
function noticeFields(body) {
  const reader = new Reader(body);
  const fields = {};
  while (reader.at < body.length && body[reader.at] !== 0) {
    const code = String.fromCharCode(body[reader.at++]);
    fields[code] = reader.cstring();
  }
  return fields;
}

// ---------------------------------------------------------------- types

/** `2024-03-04`, `2024-03-04 05:06:07.123456`, `…+05:30`, `… BC`: year, month, day, time, zone, era. */
const TIMESTAMP =
  /^(\d+)-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(\.\d+)?)?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** Parses a `timestamp`, `timestamptz` or `date` text as pg does: a Date (local time without an offset). */
function parseTimestamp(text) {
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  const year = m[13] ? 1 - Number(m[1]) : Number(m[1]);
  const [month, day] = [Number(m[2]) - 1, Number(m[3])];
  const [hour, minute, second] = [m[4], m[5], m[6]].map((part) => Number(part ?? 0));
  const ms = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  const date = new Date(0);
  if (m[8] || m[9]) {
    date.setUTCFullYear(year, month, day);
    date.setUTCHours(hour, minute, second, ms);
    const offset = (Number(m[10] ?? 0) * 3600 + Number(m[11] ?? 0) * 60 + Number(m[12] ?? 0)) * 1000;
    return new Date(date.getTime() - (m[9] === '-' ? -offset : offset));
  }
  date.setFullYear(year, month, day);
  date.setHours(hour, minute, second, ms);
  return date;
}

/** A `bytea` in hex (the server's default) or escape format. */
function parseBytea(text) {
  if (text.startsWith('\\x')) {
    const out = new Uint8Array((text.length - 2) / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 + i * 2, 2), 16);
    return out;
  }
  const out = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '\\') out.push(text.charCodeAt(i++));
    else if (text[i + 1] === '\\') (out.push(92), (i += 2));
    else (out.push(parseInt(text.substr(i + 1, 3), 8)), (i += 4));
  }
  return Uint8Array.from(out);
}

const TRUE_TEXTS = new Set(['t', 'true', 'TRUE', 'y', 'yes', 'on', '1']);
const parseBool = (text) => TRUE_TEXTS.has(text);
const parseInteger = (text) => parseInt(text, 10);
const parseJson = (text) => JSON.parse(text);

/** An array literal (`{1,2,NULL}`, `{"a b","c"}`, nested) with `parse` for its elements. */
function parseArray(text, parse) {
  let at = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  function list() {
    const out = [];
    at++; // '{'
    while (text[at] !== '}') {
      if (text[at] === '{') out.push(list());
      else if (text[at] === '"') {
        let value = '';
        for (at++; text[at] !== '"'; at++) value += text[at] === '\\' ? text[++at] : text[at];
        at++;
        out.push(parse(value));
      } else {
        let end = at;
        while (text[end] !== ',' && text[end] !== '}') end++;
        const value = text.slice(at, end);
        out.push(value === 'NULL' ? null : parse(value));
        at = end;
      }
      if (text[at] === ',') at++;
    }
    at++; // '}'
    return out;
  }
  return list();
}

const identity = (text) => text;

/** Element OIDs' parsers, and the array types of them. */
const BASE_PARSERS = [
  [16, 1000, parseBool],
  [17, 1001, parseBytea],
  [20, 1016, identity], // int8: a string, as in pg (it may not fit a number)
  [21, 1005, parseInteger],
  [23, 1007, parseInteger],
  [26, 1028, parseInteger],
  [700, 1021, parseFloat],
  [701, 1022, parseFloat],
  [1700, 1231, identity], // numeric: a string, as in pg
  [114, 199, parseJson],
  [3802, 3807, parseJson],
  [1082, 1182, parseTimestamp],
  [1114, 1115, parseTimestamp],
  [1184, 1185, parseTimestamp],
  [25, 1009, identity],
  [1043, 1015, identity],
  [1042, 1014, identity],
  [2950, 2951, identity],
];

const parsers = new Map();
for (const [oid, arrayOid, parse] of BASE_PARSERS) {
  parsers.set(oid, parse);
  parsers.set(arrayOid, (text) => parseArray(text, parse));
}

/** pg's `types`: how a column's text becomes a value, by type OID. */
export const types = {
  /** Sets the parser of type `oid` (pg's `(oid, format, parse)` form works too). */
  setTypeParser(oid, format, parse) {
    parsers.set(oid, typeof format === 'function' ? format : parse);
  },
  /** The parser of type `oid` (the text itself for unknown types). */
  getTypeParser(oid) {
    return parsers.get(oid) ?? identity;
  },
};

/** A parameter as text (`null` for SQL NULL), the way pg prepares values. */
function prepareValue(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return `\\x${toHex(value)}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value);
  if (typeof value === 'object') {
    if (typeof value.toPostgres === 'function') return prepareValue(value.toPostgres(prepareValue));
    return JSON.stringify(value);
  }
  return String(value);
}

/** A JS array as a Postgres array literal, as pg writes it. */
function arrayLiteral(list) {
  const items = list.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item);
    return `"${prepareValue(item).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}

// ---------------------------------------------------------------- config

/**
 * The parts of `postgres://user:password@host:port/database?options`
 * (`postgresql://` too), percent-decoded.
 */
export function parseConnectionString(text) {
  const scheme = /^postgres(?:ql)?:\/\//i.exec(text);
  if (!scheme) throw new TypeError('a connection string looks like postgres://user:password@host:5432/database');
  let rest = text.slice(scheme[0].length);
  const config = {};
  const question = rest.indexOf('?');
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split('&').filter(Boolean)) {
      const [key, value = ''] = pair.split('=');
      config[decodeURIComponent(key)] = decodeURIComponent(value.replace(/\+/g, ' '));
    }
    rest = rest.slice(0, question);
  }
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const [user, ...password] = rest.slice(0, at).split(':');
    if (user) config.user = decodeURIComponent(user);
    if (password.length) config.password = decodeURIComponent(password.join(':'));
    rest = rest.slice(at + 1);
  }
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (slash + 1 < rest.length) config.database = decodeURIComponent(rest.slice(slash + 1));
    rest = rest.slice(0, slash);
  }
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(rest);
  if (hostPort?.[1]) config.host = decodeURIComponent(hostPort[1].replace(/^\[|\]$/g, ''));
  if (hostPort?.[2]) config.port = Number(hostPort[2]);
  if (config.dbname && !config.database) config.database = config.dbname;
  return config;
}

/** A client's settings: the connection string over the fields, then PG* variables and pg's defaults. */
function configure(options = {}) {
  const given = typeof options === 'string' ? { connectionString: options } : { ...options };
  const env = globalThis.process?.env ?? {};
  const config = { ...given, ...(given.connectionString ? parseConnectionString(given.connectionString) : {}) };
  config.user ??= env.PGUSER ?? env.USER ?? 'postgres';
  config.host ??= env.PGHOST ?? 'localhost';
  config.port = Number(config.port ?? env.PGPORT ?? 5432);
  config.database ??= env.PGDATABASE ?? config.user;
  config.password ??= env.PGPASSWORD;
  config.application_name ??= config.applicationName;
  return config;
}

// ---------------------------------------------------------------- events

/** The little of EventEmitter pg's users rely on (`pool.on('error', …)`). */
class Emitter {
  #listeners = new Map();
  on(event, listener) {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }
  once(event, listener) {
    const once = (...args) => {
      this.off(event, once);
      listener(...args);
    };
    return this.on(event, once);
  }
  off(event, listener) {
    this.#listeners.set(event, (this.#listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }
  removeListener(event, listener) {
    return this.off(event, listener);
  }
  listenerCount(event) {
    return this.#listeners.get(event)?.length ?? 0;
  }
  emit(event, ...args) {
    const listeners = this.#listeners.get(event) ?? [];
    listeners.forEach((listener) => listener(...args));
    return listeners.length > 0;
  }
}

// ---------------------------------------------------------------- client

/** What a query returns, as in pg. */
class Result {
  constructor(fields = []) {
    this.command = null;
    this.rowCount = null;
    this.oid = null;
    this.rows = [];
    this.fields = fields;
  }
}

/** Calls `callback(error, value)` when one is given (pg's callback style), else returns the promise. */
function settle(promise, callback) {
  if (typeof callback !== 'function') return promise;
  promise.then((value) => callback(null, value), (error) => callback(error));
  return undefined;
}

/** A connection's failure that ends it (not an SQL error). */
function connectionError(message, cause) {
  return new Error(message, cause === undefined ? undefined : { cause });
}

/** One connection to the server; queries run one after another. */
export class Client extends Emitter {
  #config;
  #conn = null;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #queue = null;
  #scram = null;
  #connected = false;
  #ended = false;

  /**
   * @param {string | { connectionString?: string, host?: string, port?: number, user?: string,
   *   password?: string | (() => string | Promise<string>), database?: string, application_name?: string }} [config]
   */
  constructor(config) {
    super();
    this.#config = configure(config);
    const { host, port, user, database } = this.#config;
    Object.assign(this, { host, port, user, database, processID: null, secretKey: null, parameters: {} });
  }

  /** Whether the connection failed or was ended (a pool drops such clients). */
  get broken() {
    return this.#ended;
  }

  /** Opens the connection and logs in. */
  connect(callback) {
    if (this.#queue) {
      const error = new Error('Client has already been connected. You cannot reuse a client.');
      return settle(Promise.reject(error), callback);
    }
    const connecting = this.#login();
    this.#queue = connecting.catch(() => {});
    return settle(connecting, callback);
  }

  async #login() {
    const { host, port, database: name, user, application_name } = this.#config;
    try {
      this.#conn = await database.connect({ protocol: 'postgres', host, port, database: name });
      const params = ['user', user, 'database', name, 'client_encoding', 'UTF8'];
      if (application_name) params.push('application_name', application_name);
      await this.#send(message(null, int32(196608), ...params.map(cstring), Uint8Array.of(0)));
      for (;;) {
        const { type, body } = await this.#read();
        if (type === 'R') await this.#authenticate(new Reader(body));
        else if (type === 'K') {
          const reader = new Reader(body);
          this.processID = reader.int32();
          this.secretKey = reader.int32();
        } else if (type === 'E') throw new DatabaseError(noticeFields(body));
        else if (type === 'Z') break;
        else this.#other(type, body);
      }
      this.#connected = true;
    } catch (error) {
      this.#close();
      throw error;
    }
  }

  /** The password from the config (pg allows a function returning one). */
  async #password() {
    const { password } = this.#config;
    const value = typeof password === 'function' ? await password() : password;
    if (typeof value !== 'string') {
      throw new Error(`the server asks a password of user "${this.#config.user}", and none was given`);
    }
    return value;
  }

  async #authenticate(reader) {
    const method = reader.int32();
    if (method === 0) return; // AuthenticationOk
    if (method === 3) return this.#send(message('p', cstring(await this.#password())));
    if (method === 5) {
      const salt = reader.take(4);
      const inner = toHex(md5(concat([bytesOf(await this.#password()), bytesOf(this.#config.user)])));
      return this.#send(message('p', cstring(`md5${toHex(md5(concat([bytesOf(inner), salt])))}`)));
    }
    if (method === 10) {
      const mechanisms = [];
      for (let name = reader.cstring(); name; name = reader.cstring()) mechanisms.push(name);
      if (!mechanisms.includes('SCRAM-SHA-256')) {
        throw new Error(`the server offers only SASL mechanisms this client lacks: ${mechanisms.join(', ')}`);
      }
      const nonce = toBase64(crypto.getRandomValues(new Uint8Array(18)));
      this.#scram = { password: await this.#password(), nonce, clientFirstBare: `n=*,r=${nonce}` };
      const first = encoder.encode(`n,,${this.#scram.clientFirstBare}`);
      return this.#send(message('p', cstring('SCRAM-SHA-256'), int32(first.length), first));
    }
    if (method === 11) return this.#send(message('p', encoder.encode(this.#scramFinal(decoder.decode(reader.rest())))));
    if (method === 12) {
      const attributes = scramAttributes(decoder.decode(reader.rest()));
      if (attributes.e) throw new Error(`SCRAM authentication failed: ${attributes.e}`);
      if (attributes.v !== this.#scram?.serverSignature) {
        throw new Error('SCRAM authentication failed: the server signature does not match (an impostor?)');
      }
      this.#scram = null;
      return;
    }
    throw new Error(`the server asks for an authentication method this client does not support (${method})`);
  }

  /** SCRAM-SHA-256's client-final message for the server-first one (RFC 5802, RFC 7677). */
  #scramFinal(serverFirst) {
    const { password, nonce, clientFirstBare } = this.#scram ?? {};
    const { r, s, i } = scramAttributes(serverFirst);
    if (!r?.startsWith(nonce) || r.length === nonce.length || !s || !(Number(i) > 0)) {
      throw new Error('SCRAM authentication failed: the server-first message is malformed');
    }
    const salted = saltedPassword(password, s, Number(i));
    const clientKey = hmacSha256(salted, 'Client Key');
    const withoutProof = `c=biws,r=${r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmacSha256(sha256(clientKey), authMessage);
    const proof = clientKey.map((b, j) => b ^ signature[j]);
    this.#scram.serverSignature = toBase64(hmacSha256(hmacSha256(salted, 'Server Key'), authMessage));
    return `${withoutProof},p=${toBase64(proof)}`;
  }

  /** Messages that may come at any time: parameter changes, notices, notifications. */
  #other(type, body) {
    const reader = new Reader(body);
    if (type === 'S') {
      const name = reader.cstring();
      this.parameters[name] = reader.cstring();
    } else if (type === 'N') {
      this.emit('notice', Object.assign(new DatabaseError(noticeFields(body)), { name: 'notice' }));
    } else if (type === 'A') {
      const processId = reader.int32();
      const channel = reader.cstring();
      this.emit('notification', { processId, channel, payload: reader.cstring() });
    }
  }

  async #send(bytes) {
    try {
      await this.#conn.send(bytes);
    } catch (error) {
      throw this.#lost(error);
    }
  }

  /** The next backend message, reading more from the connection as needed. */
  async #read() {
    for (;;) {
      const available = this.#end - this.#start;
      if (available >= 5) {
        const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset + this.#start + 1, 4);
        const length = view.getInt32(0);
        if (available >= length + 1) {
          const type = String.fromCharCode(this.#buffer[this.#start]);
          const body = this.#buffer.subarray(this.#start + 5, this.#start + 1 + length);
          this.#start += length + 1;
          return { type, body };
        }
      }
      let chunk;
      try {
        chunk = await this.#conn.recv(65536);
      } catch (error) {
        throw this.#lost(error);
      }
      if (chunk.length === 0) throw this.#lost();
      if (this.#buffer.length - this.#end < chunk.length) {
        // A new buffer (not a copy within): bodies handed out stay intact.
        const kept = this.#buffer.subarray(this.#start, this.#end);
        const grown = new Uint8Array(Math.max(65536, (kept.length + chunk.length) * 2));
        grown.set(kept);
        [this.#buffer, this.#start, this.#end] = [grown, 0, kept.length];
      }
      this.#buffer.set(chunk, this.#end);
      this.#end += chunk.length;
    }
  }

  /** Ends a connection that failed: the error to throw. */
  #lost(cause) {
    const wasConnected = this.#connected;
    this.#close();
    const error = connectionError(
      cause ? `Connection terminated: ${cause.message ?? cause}` : 'Connection terminated unexpectedly',
      cause,
    );
    if (cause?.code) error.code = cause.code;
    if (wasConnected && this.listenerCount('error') > 0) this.emit('error', error);
    return error;
  }

  #close() {
    this.#ended = true;
    this.#connected = false;
    this.#conn?.close();
  }

  /**
   * Runs `text` with `values` ($1, $2…): `{ rows, rowCount, fields, command }`
   * (an array of those for several statements without values). Also takes
   * pg's `{ text, values, rowMode: 'array' }` and a trailing callback.
   */
  query(text, values, callback) {
    const config = typeof text === 'object' && text !== null ? { ...text } : { text };
    if (typeof values === 'function') callback = values;
    else if (values !== undefined) config.values = values;
    if (!this.#queue) {
      return settle(Promise.reject(new Error('Client was not connected: call connect() first')), callback);
    }
    const run = this.#queue.then(() => this.#run(config));
    this.#queue = run.catch(() => {});
    return settle(run, callback);
  }

  async #run({ text, values, rowMode }) {
    if (!this.#connected) {
      throw new Error(this.#ended ? 'Client was closed and is not queryable' : 'Client is not connected');
    }
    if (typeof text !== 'string') throw new TypeError('query text must be a string');
    if (!values?.length) {
      await this.#send(message('Q', cstring(text)));
    } else {
      const params = values.map((value) => {
        const prepared = prepareValue(value);
        if (prepared === null) return [int32(-1)];
        const bytes = encoder.encode(prepared);
        return [int32(bytes.length), bytes];
      });
      await this.#send(
        concat([
          message('P', cstring(''), cstring(text), int16(0)),
          message('B', cstring(''), cstring(''), int16(0), int16(params.length), ...params.flat(), int16(0)),
          message('D', encoder.encode('P'), cstring('')),
          message('E', cstring(''), int32(0)),
          message('S'),
        ]),
      );
    }
    const results = [];
    let current = null;
    let failure = null;
    for (;;) {
      const { type, body } = await this.#read();
      if (type === 'T') current = new Result(fieldsOf(body));
      else if (type === 'D') (current ??= new Result()).rows.push(rowOf(body, current.fields, rowMode));
      else if (type === 'C' || type === 'I') {
        const result = current ?? new Result();
        if (type === 'C') completeResult(result, new Reader(body).cstring());
        results.push(result);
        current = null;
      } else if (type === 'E') failure = new DatabaseError(noticeFields(body));
      else if (type === 'Z') break;
      else if (type === 'G') await this.#send(message('f', cstring(COPY_IN_REFUSED)));
      else if (!'12ns'.includes(type)) this.#other(type, body); // ParseComplete, BindComplete, NoData, PortalSuspended
    }
    if (failure) throw failure;
    return results.length === 1 ? results[0] : results.length ? results : new Result();
  }

  /** Closes the connection once the queries before it are done. */
  end(callback) {
    const ending = (async () => {
      await this.#queue;
      if (this.#ended) return;
      try {
        if (this.#connected) await this.#conn.send(message('X'));
      } catch {
        // Closing anyway.
      }
      this.#close();
      this.emit('end');
    })();
    return settle(ending, callback);
  }
}

const COPY_IN_REFUSED = 'COPY FROM STDIN is not supported by @warpgrid/sdk/pg';

/** RowDescription: pg's `fields`. */
function fieldsOf(body) {
  const reader = new Reader(body);
  return Array.from({ length: reader.int16() }, () => ({
    name: reader.cstring(),
    tableID: reader.int32(),
    columnID: reader.int16(),
    dataTypeID: reader.int32(),
    dataTypeSize: reader.int16(),
    dataTypeModifier: reader.int32(),
    format: reader.int16() === 0 ? 'text' : 'binary',
  }));
}

/** DataRow: an object by column name (or an array with `rowMode: 'array'`). */
function rowOf(body, fields, rowMode) {
  const reader = new Reader(body);
  const count = reader.int16();
  const row = rowMode === 'array' ? [] : {};
  for (let i = 0; i < count; i++) {
    const length = reader.int32();
    const oid = fields[i]?.dataTypeID;
    const value = length < 0 ? null : types.getTypeParser(oid)(decoder.decode(reader.take(length)));
    if (rowMode === 'array') row.push(value);
    else row[fields[i]?.name ?? String(i)] = value;
  }
  return row;
}

/** CommandComplete's tag (`INSERT 0 3`, `SELECT 2`, `CREATE TABLE`) into the result. */
function completeResult(result, tag) {
  const m = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/.exec(tag);
  if (!m) return;
  result.command = m[1];
  if (m[3]) [result.oid, result.rowCount] = [Number(m[2]), Number(m[3])];
  else if (m[2]) result.rowCount = Number(m[2]);
}

/**
 * SCRAM's SaltedPassword, remembered: a role keeps its salt until its
 * password changes, so the next connection (a pool's second, say) skips
 * the 4096 iterations, which cost the interpreted engine of a component
 * a good fraction of a second.
 */
const saltedPasswords = new Map();
function saltedPassword(password, salt, iterations) {
  const key = `${iterations}:${salt}:${password}`;
  let value = saltedPasswords.get(key);
  if (!value) {
    value = pbkdf2Sha256(password, fromBase64(salt), iterations);
    if (saltedPasswords.size >= 16) saltedPasswords.delete(saltedPasswords.keys().next().value);
    saltedPasswords.set(key, value);
  }
  return value;
}

/** `k=v,k=v` of a SCRAM message. */
function scramAttributes(text) {
  return Object.fromEntries(
    text.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq), part.slice(eq + 1)];
    }),
  );
}

// ---------------------------------------------------------------- pool

/**
 * Up to `max` (10) clients, shared: `query` checks one out, runs, gives it
 * back; `connect` checks one out until its `release()`. Callers beyond
 * `max` wait in line. Inside a component, keep `max` at most the entry's
 * `pool_size`: the proxy refuses connections past it.
 */
export class Pool extends Emitter {
  #options;
  #idle = [];
  #waiting = [];
  #count = 0;
  #ending = false;

  constructor(options = {}) {
    super();
    this.#options = typeof options === 'string' ? { connectionString: options } : { ...options };
    this.options = { ...this.#options, max: this.#options.max ?? 10 };
  }

  get totalCount() {
    return this.#count;
  }
  get idleCount() {
    return this.#idle.length;
  }
  get waitingCount() {
    return this.#waiting.length;
  }
  get ended() {
    return this.#ending;
  }

  /** A client of the pool's, until its `release()`. */
  connect(callback) {
    const checkout = (async () => {
      if (this.#ending) throw new Error('Cannot use a pool after calling end on the pool');
      const client = this.#idle.pop() ?? (this.#count < this.options.max ? await this.#open() : await this.#wait());
      return this.#lend(client);
    })();
    if (typeof callback !== 'function') return checkout;
    checkout.then((client) => callback(null, client, client.release), (error) => callback(error));
    return undefined;
  }

  async #open() {
    this.#count++;
    const client = new Client(this.#options);
    client.on('error', (error) => this.emit('error', error, client));
    try {
      await client.connect();
    } catch (error) {
      this.#count--;
      this.#serve();
      throw error;
    }
    this.emit('connect', client);
    return client;
  }

  #wait() {
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Gives `client` its `release(error?)`, good once. */
  #lend(client) {
    let released = false;
    client.release = (error) => {
      if (released) throw new Error('Release called on client which has already been released to the pool.');
      released = true;
      this.#giveBack(client, error instanceof Error || error === true);
    };
    this.emit('acquire', client);
    return client;
  }

  #giveBack(client, destroy) {
    if (destroy || client.broken || this.#ending) {
      this.#count--;
      this.emit('remove', client);
      client.end().catch(() => {});
    } else {
      this.#idle.push(client);
      this.emit('release', undefined, client);
    }
    this.#serve();
  }

  /** Hands idle clients (or room for new ones) to whoever waits. */
  #serve() {
    while (this.#waiting.length) {
      if (this.#idle.length) {
        this.#waiting.shift().resolve(this.#idle.pop());
      } else if (this.#count < this.options.max) {
        const waiter = this.#waiting.shift();
        this.#open().then(waiter.resolve, waiter.reject);
      } else {
        return;
      }
    }
  }

  /** Runs a query on a client of the pool's (see `Client.query`). */
  query(text, values, callback) {
    if (typeof values === 'function') [callback, values] = [values, undefined];
    const run = (async () => {
      const client = await this.connect();
      try {
        return await client.query(text, values);
      } finally {
        client.release();
      }
    })();
    return settle(run, callback);
  }

  /** Closes the idle clients, and the others as they are released. */
  end(callback) {
    this.#ending = true;
    const ending = (async () => {
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('the pool is ending'));
      const idle = this.#idle.splice(0);
      this.#count -= idle.length;
      await Promise.all(idle.map((client) => client.end().catch(() => {})));
      this.emit('end');
    })();
    return settle(ending, callback);
  }
}

export default { Pool, Client, DatabaseError, types, parseConnectionString };
