// Pure-JavaScript versions of Bun runtime APIs, for JS apps that warp packs as components.
//
// A warp component runs its JS on StarlingMonkey (SpiderMonkey): there is no `Bun` there and no
// Node API, so this module re-implements the `Bun.*` utilities apps commonly use: Bun.hash with
// its variants, Bun.CryptoHasher, Bun.password, Bun.deepEquals and Bun.escapeHTML. Each one
// answers byte for byte like Bun 1.4.5 wherever Bun's answer is deterministic, errors included
// (same class, `code` and message); utils.test.mjs checks that against the real bun binary.
// Where an exact answer is out of reach the function throws an Error that says
// "... is not available in a warp component" rather than answer differently.
//
// Importing the module only defines things: it reads none of the web globals (TextEncoder,
// crypto, Blob, URL, ...) until a function is called.

import { argon2d, argon2i, argon2id } from '@noble/hashes/argon2.js';
import { blake2b, blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { md5, ripemd160, sha1 } from '@noble/hashes/legacy.js';
import { HashMD } from '@noble/hashes/_md.js';
import { sha224, sha256, sha384, sha512, sha512_224, sha512_256 } from '@noble/hashes/sha2.js';
import { sha3_224, sha3_256, sha3_384, sha3_512, shake128, shake256 } from '@noble/hashes/sha3.js';
import { createHasher } from '@noble/hashes/utils.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers

// Bun's argument errors are TypeErrors that carry a Node-style `code`.
function argumentError(code, message) {
  const error = new TypeError(message);
  error.code = code;
  return error;
}

function notAvailable(what, advice) {
  return new Error(`${what} is not available in a warp component${advice ? `; ${advice}` : ''}`);
}

function utf8Bytes(text) {
  return new TextEncoder().encode(text);
}

// Bun takes a String object wherever it takes a string; undefined for anything else.
function stringValue(value) {
  if (typeof value === 'string') return value;
  return value instanceof String ? String.prototype.valueOf.call(value) : undefined;
}

// The bytes behind an ArrayBuffer, a SharedArrayBuffer or any ArrayBuffer view; undefined for
// anything else.
function bufferBytes(value) {
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer || isSharedArrayBuffer(value)) return new Uint8Array(value);
  return undefined;
}

function isSharedArrayBuffer(value) {
  return typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer;
}

// Bun reads a Blob's bytes synchronously; web code cannot, so Blobs are refused.
function isBlob(value) {
  return typeof Blob === 'function' && value instanceof Blob;
}

function latin1String(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function hexString(bytes) {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Base64 without padding, in the given 64-character alphabet.
function base64Encode(bytes, alphabet) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const group = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 4) / 3));
    for (let j = 0; j < chars; j++) text += alphabet[(group >> (18 - 6 * j)) & 63];
  }
  return text;
}

// Strict base64 without padding (the PHC and bcrypt string formats): every character must be
// in the alphabet and the unused low bits of the last one must be zero. Undefined if invalid.
function base64DecodeStrict(text, alphabet) {
  if (text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let pending = 0;
  let length = 0;
  for (const char of text) {
    const value = alphabet.indexOf(char);
    if (value < 0) return undefined;
    pending = (pending << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[length++] = pending >> bits;
      pending &= (1 << bits) - 1;
    }
  }
  return pending === 0 ? bytes : undefined;
}

// Bun decodes base64 input the way Node's Buffer does: both alphabets, characters outside them
// skipped, decoding stops at the first '='.
function base64DecodeLoose(text) {
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let pending = 0;
  let length = 0;
  for (const char of text) {
    if (char === '=') break;
    let value = BASE64_ALPHABET.indexOf(char);
    if (value < 0) value = BASE64URL_ALPHABET.indexOf(char);
    if (value < 0) continue;
    pending = (pending << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[length++] = pending >> bits;
      pending &= (1 << bits) - 1;
    }
  }
  return bytes.subarray(0, length);
}

function asciiLowerCase(text) {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

// ---------------------------------------------------------------------------------------------
// Bun.hash
//
// Bun.hash and its variants are the Zig standard library's hashes (zlib's for crc32); seeds and
// results follow Bun's HashObject binding: a number or BigInt seed is taken modulo 2^64 (a number
// is truncated toward zero, NaN and -Infinity give 0, +Infinity and anything >= 2^64 give
// 2^64 - 1), any other seed counts as 0, and each hash keeps the low bits it takes. 32-bit hashes
// return a number, 64-bit ones a BigInt.

const U64 = 0xffffffffffffffffn;
const U32 = 0xffffffffn;

function seedToU64(seed) {
  if (typeof seed === 'bigint') return BigInt.asUintN(64, seed);
  if (typeof seed !== 'number' || Number.isNaN(seed) || seed === -Infinity) return 0n;
  if (seed >= 2 ** 64) return U64;
  return BigInt.asUintN(64, BigInt(Math.trunc(seed)));
}

const low32 = (seed) => Number(seed & U32);

// 64-bit arithmetic on BigInts, wrapping like Zig's `+%` and `*%`.
const add64 = (...terms) => terms.reduce((sum, term) => sum + term) & U64;
const mul64 = (a, b) => (a * b) & U64;
const rotl64 = (x, r) => ((x << r) | (x >> (64n - r))) & U64;
const rotr64 = (x, r) => ((x >> r) | (x << (64n - r))) & U64;

// Both halves of the 128-bit product, XORed together (wyhash's and rapidhash's "mix").
function foldedProduct(a, b) {
  const product = a * b;
  return (product & U64) ^ (product >> 64n);
}

function byteSwap64(x) {
  let swapped = 0n;
  for (let i = 0; i < 8; i++) {
    swapped = (swapped << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return swapped;
}

// Little-endian readers over a byte array.
function littleEndian(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u64: (offset) => view.getBigUint64(offset, true),
    u32: (offset) => BigInt(view.getUint32(offset, true)),
    uint32: (offset) => view.getUint32(offset, true),
  };
}

const rotl32 = (x, r) => (x << r) | (x >>> (32 - r));
const rotr32 = (x, r) => (x >>> r) | (x << (32 - r));
const byteSwap32 = (x) => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0;

// Murmur3's 32-bit finalizer, also used by CityHash32.
function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const WYHASH_SECRET = [0xa0761d6478bd642fn, 0xe7037ed1a0b428dbn, 0x8ebc6af09c88c6e3n, 0x589965cc75374cc3n];

// std.hash.Wyhash (final version 4.2).
function wyhash(bytes, seed) {
  const [s0, s1, s2, s3] = WYHASH_SECRET;
  const { u64, u32 } = littleEndian(bytes);
  const length = bytes.length;
  let state = seed ^ foldedProduct(seed ^ s0, s1);
  let a;
  let b;
  if (length <= 16) {
    if (length >= 4) {
      const quarter = (length >> 3) << 2;
      a = (u32(0) << 32n) | u32(quarter);
      b = (u32(length - 4) << 32n) | u32(length - 4 - quarter);
    } else if (length > 0) {
      a = (BigInt(bytes[0]) << 16n) | (BigInt(bytes[length >> 1]) << 8n) | BigInt(bytes[length - 1]);
      b = 0n;
    } else {
      a = 0n;
      b = 0n;
    }
  } else {
    let i = 0;
    if (length >= 48) {
      let state1 = state;
      let state2 = state;
      for (; i + 48 < length; i += 48) {
        state = foldedProduct(u64(i) ^ s1, u64(i + 8) ^ state);
        state1 = foldedProduct(u64(i + 16) ^ s2, u64(i + 24) ^ state1);
        state2 = foldedProduct(u64(i + 32) ^ s3, u64(i + 40) ^ state2);
      }
      state ^= state1 ^ state2;
    }
    for (; i + 16 < length; i += 16) state = foldedProduct(u64(i) ^ s1, u64(i + 8) ^ state);
    a = u64(length - 16);
    b = u64(length - 8);
  }
  const product = (a ^ s1) * (b ^ state);
  return foldedProduct((product & U64) ^ s0 ^ BigInt(length), (product >> 64n) ^ s1);
}

const RAPID_SECRET = [0x2d358dccaa6c78a5n, 0x8bb84b93962eacc9n, 0x4b33a62ed433d4a3n];

// bun.deprecated.RapidHash (the rapidhash Bun kept when Zig's std changed it).
function rapidhash(bytes, seed) {
  const secret = RAPID_SECRET;
  const { u64, u32 } = littleEndian(bytes);
  const length = bytes.length;
  const states = [seed ^ foldedProduct(seed ^ secret[0], secret[1]) ^ BigInt(length), 0n, 0n];
  let a = 0n;
  let b = 0n;
  if (length <= 16) {
    if (length >= 4) {
      const d = (length & 24) >> (length >> 3);
      const e = length - 4;
      a = (u32(0) << 32n) | u32(e);
      b = (u32(d) << 32n) | u32(e - d);
    } else if (length > 0) {
      a = (BigInt(bytes[0]) << 56n) | (BigInt(bytes[length >> 1]) << 32n) | BigInt(bytes[length - 1]);
    }
  } else {
    let offset = 0;
    let remaining = length;
    if (length > 48) {
      states[1] = states[0];
      states[2] = states[0];
      for (; remaining >= 96; offset += 96, remaining -= 96) {
        for (let i = 0; i < 6; i++) {
          const lane = i % 3;
          states[lane] = foldedProduct(u64(offset + 16 * i) ^ secret[lane], u64(offset + 16 * i + 8) ^ states[lane]);
        }
      }
      if (remaining >= 48) {
        for (let i = 0; i < 3; i++) {
          states[i] = foldedProduct(u64(offset + 16 * i) ^ secret[i], u64(offset + 16 * i + 8) ^ states[i]);
        }
        offset += 48;
        remaining -= 48;
      }
      states[0] ^= states[1] ^ states[2];
    }
    if (remaining > 16) {
      states[0] = foldedProduct(u64(offset) ^ secret[2], u64(offset + 8) ^ states[0] ^ secret[1]);
      if (remaining > 32) {
        states[0] = foldedProduct(u64(offset + 16) ^ secret[2], u64(offset + 24) ^ states[0]);
      }
    }
    a = u64(length - 16);
    b = u64(length - 8);
  }
  const product = (a ^ secret[1]) * (b ^ states[0]);
  return foldedProduct((product & U64) ^ secret[0] ^ BigInt(length), (product >> 64n) ^ secret[1]);
}

let crc32Table;

// zlib's crc32(seed, data): the CRC-32 of the data, continuing from `seed`.
function crc32(bytes, seed) {
  crc32Table ??= Int32Array.from({ length: 256 }, (_, n) => {
    for (let bit = 0; bit < 8; bit++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
    return n;
  });
  let crc = ~seed;
  for (const byte of bytes) crc = crc32Table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function adler32(bytes) {
  let a = 1;
  let b = 0;
  // Reduce often enough that the sums stay exact integers.
  for (let start = 0; start < bytes.length; start += 4096) {
    const end = Math.min(start + 4096, bytes.length);
    for (let i = start; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const CITY_C1 = 0xcc9e2d51;
const CITY_C2 = 0x1b873593;

// Murmur3-style combine step of CityHash32.
function cityMur(a, h) {
  a = Math.imul(rotr32(Math.imul(a, CITY_C1), 17), CITY_C2);
  h = rotr32(h ^ a, 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

// std.hash.CityHash32 (Google's CityHash32 v1.1).
function cityHash32(bytes) {
  const { uint32: fetch } = littleEndian(bytes);
  const length = bytes.length;
  if (length <= 4) {
    let b = 0;
    let c = 9;
    for (const byte of bytes) {
      b = (Math.imul(b, CITY_C1) + ((byte << 24) >> 24)) | 0;
      c ^= b;
    }
    return fmix32(cityMur(b, cityMur(length, c))) >>> 0;
  }
  if (length <= 12) {
    const a = (length + fetch(0)) | 0;
    const b = (Math.imul(length, 5) + fetch(length - 4)) | 0;
    const c = (9 + fetch((length >> 1) & 4)) | 0;
    return fmix32(cityMur(c, cityMur(b, cityMur(a, Math.imul(length, 5))))) >>> 0;
  }
  if (length <= 24) {
    const half = length >> 1;
    let h = cityMur(fetch(half - 4), length);
    for (const offset of [4, length - 8, half, 0, length - 4]) h = cityMur(fetch(offset), h);
    return fmix32(h) >>> 0;
  }
  const scramble = (x) => Math.imul(rotr32(Math.imul(x, CITY_C1), 17), CITY_C2);
  const step = (h, r) => (Math.imul(rotr32(h, r), 5) + 0xe6546b64) | 0;
  let h = length;
  let g = Math.imul(CITY_C1, length);
  let f = g;
  h = step(h ^ scramble(fetch(length - 4)), 19);
  h = step(h ^ scramble(fetch(length - 16)), 19);
  g = step(g ^ scramble(fetch(length - 8)), 19);
  g = step(g ^ scramble(fetch(length - 12)), 19);
  f = step((f + scramble(fetch(length - 20))) | 0, 19);
  for (let offset = 0, iterations = Math.floor((length - 1) / 20); iterations > 0; iterations--, offset += 20) {
    const b0 = scramble(fetch(offset));
    const b1 = fetch(offset + 4);
    const b2 = scramble(fetch(offset + 8));
    const b3 = scramble(fetch(offset + 12));
    const b4 = fetch(offset + 16);
    h = step(h ^ b0, 18);
    f = Math.imul(rotr32((f + b1) | 0, 19), CITY_C1);
    g = step((g + b2) | 0, 18);
    h = step(h ^ ((b3 + b1) | 0), 19);
    g = Math.imul(byteSwap32(g ^ b4), 5);
    h = byteSwap32((h + Math.imul(b4, 5)) | 0);
    f = (f + b0) | 0;
    [h, f, g] = [f, g, h];
  }
  g = Math.imul(rotr32(Math.imul(rotr32(g, 11), CITY_C1), 17), CITY_C1);
  f = Math.imul(rotr32(Math.imul(rotr32(f, 11), CITY_C1), 17), CITY_C1);
  h = step((h + g) | 0, 19);
  h = Math.imul(rotr32(h, 17), CITY_C1);
  h = step((h + f) | 0, 19);
  return Math.imul(rotr32(h, 17), CITY_C1) >>> 0;
}

const CITY_K0 = 0xc3a5c85c97cb3127n;
const CITY_K1 = 0xb492b66fbe98f273n;
const CITY_K2 = 0x9ae16a3b2f90404fn;

function cityHashLen16(low, high, multiplier = 0x9ddfea08eb382d69n) {
  let a = mul64(low ^ high, multiplier);
  a ^= a >> 47n;
  let b = mul64(high ^ a, multiplier);
  b ^= b >> 47n;
  return mul64(b, multiplier);
}

const shiftMix = (v) => v ^ (v >> 47n);

// std.hash.CityHash64 (Google's CityHash64 v1.1) without a seed.
function cityHash64Unseeded(bytes) {
  const { u64, u32 } = littleEndian(bytes);
  const length = bytes.length;
  const n = BigInt(length);
  const multiplier = add64(CITY_K2, n * 2n);
  if (length <= 16) {
    if (length >= 8) {
      const a = add64(u64(0), CITY_K2);
      const b = u64(length - 8);
      const c = add64(mul64(rotr64(b, 37n), multiplier), a);
      const d = mul64(add64(rotr64(a, 25n), b), multiplier);
      return cityHashLen16(c, d, multiplier);
    }
    if (length >= 4) return cityHashLen16(add64(n, u32(0) << 3n), u32(length - 4), multiplier);
    if (length > 0) {
      const y = BigInt(bytes[0]) + (BigInt(bytes[length >> 1]) << 8n);
      const z = n + (BigInt(bytes[length - 1]) << 2n);
      return mul64(shiftMix(mul64(y, CITY_K2) ^ mul64(z, CITY_K0)), CITY_K2);
    }
    return CITY_K2;
  }
  if (length <= 32) {
    const a = mul64(u64(0), CITY_K1);
    const b = u64(8);
    const c = mul64(u64(length - 8), multiplier);
    const d = mul64(u64(length - 16), CITY_K2);
    return cityHashLen16(
      add64(rotr64(add64(a, b), 43n), rotr64(c, 30n), d),
      add64(a, rotr64(add64(b, CITY_K2), 18n), c),
      multiplier,
    );
  }
  if (length <= 64) {
    const a = mul64(u64(0), CITY_K2);
    const b = u64(8);
    const c = u64(length - 24);
    const d = u64(length - 32);
    const e = mul64(u64(16), CITY_K2);
    const f = mul64(u64(24), 9n);
    const g = u64(length - 8);
    const h = mul64(u64(length - 16), multiplier);
    const u = add64(rotr64(add64(a, g), 43n), mul64(add64(rotr64(b, 30n), c), 9n));
    const v = add64((add64(a, g) ^ d), f, 1n);
    const w = add64(byteSwap64(mul64(add64(u, v), multiplier)), h);
    const x = add64(rotr64(add64(e, f), 42n), c);
    const y = mul64(add64(byteSwap64(mul64(add64(v, w), multiplier)), g), multiplier);
    const z = add64(e, f, c);
    const a1 = add64(byteSwap64(add64(mul64(add64(x, z), multiplier), y)), b);
    const b1 = mul64(shiftMix(add64(mul64(add64(z, a1), multiplier), d, h)), multiplier);
    return add64(b1, x);
  }
  // Two 64-bit values derived from 32 bytes at `offset` and two seeds.
  const weakHash32 = (offset, a, b) => {
    const w = u64(offset);
    const x = u64(offset + 8);
    const y = u64(offset + 16);
    const z = u64(offset + 24);
    a = add64(a, w);
    b = rotr64(add64(b, a, z), 21n);
    const c = a;
    a = add64(a, x, y);
    b = add64(b, rotr64(a, 44n));
    return [add64(a, z), add64(b, c)];
  };
  let x = u64(length - 40);
  let y = add64(u64(length - 16), u64(length - 56));
  let z = cityHashLen16(add64(u64(length - 48), n), u64(length - 24));
  let v = weakHash32(length - 64, n, z);
  let w = weakHash32(length - 32, add64(y, CITY_K1), x);
  x = add64(mul64(x, CITY_K1), u64(0));
  for (let offset = 0, remaining = (length - 1) & ~63; remaining > 0; offset += 64, remaining -= 64) {
    x = mul64(rotr64(add64(x, y, v[0], u64(offset + 8)), 37n), CITY_K1);
    y = mul64(rotr64(add64(y, v[1], u64(offset + 48)), 42n), CITY_K1);
    x ^= w[1];
    y = add64(y, v[0], u64(offset + 40));
    z = mul64(rotr64(add64(z, w[0]), 33n), CITY_K1);
    v = weakHash32(offset, mul64(v[1], CITY_K1), add64(x, w[0]));
    w = weakHash32(offset + 32, add64(z, w[1]), add64(y, u64(offset + 16)));
    [z, x] = [x, z];
  }
  return cityHashLen16(
    add64(cityHashLen16(v[0], w[0]), mul64(shiftMix(y), CITY_K1), z),
    add64(cityHashLen16(v[1], w[1]), x),
  );
}

// std.hash.CityHash64.hashWithSeed.
function cityHash64(bytes, seed) {
  return cityHashLen16((cityHash64Unseeded(bytes) - CITY_K2) & U64, seed);
}

// std.hash.murmur.Murmur2_32.hashWithSeed.
function murmur32v2(bytes, seed) {
  const m = 0x5bd1e995;
  const { uint32 } = littleEndian(bytes);
  const length = bytes.length;
  let h = seed ^ length;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let k = Math.imul(uint32(i), m);
    k ^= k >>> 24;
    h = Math.imul(h, m) ^ Math.imul(k, m);
  }
  const rest = length & 3;
  if (rest >= 3) h ^= bytes[i + 2] << 16;
  if (rest >= 2) h ^= bytes[i + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ bytes[i], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  return (h ^ (h >>> 15)) >>> 0;
}

// std.hash.murmur.Murmur3_32.hashWithSeed.
function murmur32v3(bytes, seed) {
  const scramble = (k) => Math.imul(rotl32(Math.imul(k, CITY_C1), 15), CITY_C2);
  const { uint32 } = littleEndian(bytes);
  const length = bytes.length;
  let h = seed;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    h = (Math.imul(rotl32(h ^ scramble(uint32(i)), 13), 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  let k = 0;
  if (rest === 3) k ^= bytes[i + 2] << 16;
  if (rest >= 2) k ^= bytes[i + 1] << 8;
  if (rest >= 1) h ^= scramble(k ^ bytes[i]);
  return fmix32(h ^ length) >>> 0;
}

// std.hash.murmur.Murmur2_64.hashWithSeed (MurmurHash64A).
function murmur64v2(bytes, seed) {
  const m = 0xc6a4a7935bd1e995n;
  const { u64 } = littleEndian(bytes);
  const length = bytes.length;
  let h = seed ^ mul64(BigInt(length), m);
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    let k = mul64(u64(i), m);
    k ^= k >> 47n;
    h = mul64(h ^ mul64(k, m), m);
  }
  if (i < length) {
    let k = 0n;
    for (let j = length - 1; j >= i; j--) k = (k << 8n) | BigInt(bytes[j]);
    h = mul64(h ^ k, m);
  }
  h ^= h >> 47n;
  h = mul64(h, m);
  return h ^ (h >> 47n);
}

const XXH32_PRIME = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1];

// std.hash.XxHash32.
function xxHash32(bytes, seed) {
  const [p1, p2, p3, p4, p5] = XXH32_PRIME;
  const round = (acc, lane) => Math.imul(rotl32((acc + Math.imul(lane, p2)) | 0, 13), p1);
  const { uint32 } = littleEndian(bytes);
  const length = bytes.length;
  let i = 0;
  let acc;
  if (length >= 16) {
    let v1 = (seed + p1 + p2) | 0;
    let v2 = (seed + p2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - p1) | 0;
    for (; i + 16 <= length; i += 16) {
      v1 = round(v1, uint32(i));
      v2 = round(v2, uint32(i + 4));
      v3 = round(v3, uint32(i + 8));
      v4 = round(v4, uint32(i + 12));
    }
    acc = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
  } else {
    acc = seed + p5;
  }
  acc = (acc + length) | 0;
  for (; i + 4 <= length; i += 4) acc = Math.imul(rotl32((acc + Math.imul(uint32(i), p3)) | 0, 17), p4);
  for (; i < length; i++) acc = Math.imul(rotl32((acc + Math.imul(bytes[i], p5)) | 0, 11), p1);
  acc = Math.imul(acc ^ (acc >>> 15), p2);
  acc = Math.imul(acc ^ (acc >>> 13), p3);
  return (acc ^ (acc >>> 16)) >>> 0;
}

const XXH64_PRIME = [
  0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0x85ebca77c2b2ae63n, 0x27d4eb2f165667c5n,
];

const xxh64Round = (acc, lane) => mul64(rotl64(add64(acc, mul64(lane, XXH64_PRIME[1])), 31n), XXH64_PRIME[0]);

function xxh64Avalanche(acc) {
  acc = mul64(acc ^ (acc >> 33n), XXH64_PRIME[1]);
  acc = mul64(acc ^ (acc >> 29n), XXH64_PRIME[2]);
  return acc ^ (acc >> 32n);
}

// std.hash.XxHash64.
function xxHash64(bytes, seed) {
  const [p1, p2, p3, p4, p5] = XXH64_PRIME;
  const { u64, u32 } = littleEndian(bytes);
  const length = bytes.length;
  let i = 0;
  let acc;
  if (length >= 32) {
    const lanes = [add64(seed, p1, p2), add64(seed, p2), seed, (seed - p1) & U64];
    for (; i + 32 <= length; i += 32) {
      for (let lane = 0; lane < 4; lane++) lanes[lane] = xxh64Round(lanes[lane], u64(i + 8 * lane));
    }
    acc = add64(rotl64(lanes[0], 1n), rotl64(lanes[1], 7n), rotl64(lanes[2], 12n), rotl64(lanes[3], 18n));
    for (const lane of lanes) acc = add64(mul64(acc ^ xxh64Round(0n, lane), p1), p4);
  } else {
    acc = add64(seed, p5);
  }
  acc = add64(acc, BigInt(length));
  for (; i + 8 <= length; i += 8) acc = add64(mul64(rotl64(acc ^ xxh64Round(0n, u64(i)), 27n), p1), p4);
  if (i + 4 <= length) {
    acc = add64(mul64(rotl64(acc ^ mul64(u32(i), p1), 23n), p2), p3);
    i += 4;
  }
  for (; i < length; i++) acc = mul64(rotl64(acc ^ mul64(BigInt(bytes[i]), p5), 11n), p1);
  return xxh64Avalanche(acc);
}

// XXH3's default 192-byte secret.
const XXH3_SECRET = Uint8Array.from(
  ('b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671fcb79e64eccc0e578825ad07dccff7221' +
    'b8084674f743248ee03590e6813a264c3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
    'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364eac5ac8334d3ebc3c581a0fffa1363eb' +
    '170ddd51b7f0da49d316552629d4689e2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e').match(/../g),
  (pair) => parseInt(pair, 16),
);
const XXH3_PRIME_MX1 = 0x165667919e3779f9n;
const XXH3_PRIME_MX2 = 0x9fb21c651e98df25n;

function xxh3Avalanche(x) {
  x = mul64(x ^ (x >> 37n), XXH3_PRIME_MX1);
  return x ^ (x >> 32n);
}

// std.hash.XxHash3 (XXH3_64bits_withSeed). Bun passes it only the low 32 bits of the seed.
function xxHash3(bytes, seed) {
  const { u64: input, u32: input32 } = littleEndian(bytes);
  const { u64: secret, u32: secret32 } = littleEndian(XXH3_SECRET);
  const length = bytes.length;
  const n = BigInt(length);
  const [p1, p2] = XXH64_PRIME;
  const mix16 = (at, secretAt) =>
    foldedProduct(input(at) ^ add64(secret(secretAt), seed), input(at + 8) ^ ((secret(secretAt + 8) - seed) & U64));
  if (length === 0) return xxh64Avalanche(seed ^ secret(56) ^ secret(64));
  if (length <= 3) {
    const key = add64(secret32(0) ^ secret32(4), seed);
    const combined = BigInt(
      (bytes[length - 1] | (length << 8) | (bytes[0] << 16) | (bytes[length >> 1] << 24)) >>> 0,
    );
    return xxh64Avalanche(key ^ combined);
  }
  if (length <= 8) {
    const mixedSeed = seed ^ (BigInt(byteSwap32(low32(seed))) << 32n);
    const key = ((secret(8) ^ secret(16)) - mixedSeed) & U64;
    let x = key ^ add64(input32(0) << 32n, input32(length - 4));
    x = mul64(x ^ rotl64(x, 49n) ^ rotl64(x, 24n), XXH3_PRIME_MX2);
    x = mul64(x ^ add64(x >> 35n, n), XXH3_PRIME_MX2);
    return x ^ (x >> 28n);
  }
  if (length <= 16) {
    const low = input(0) ^ add64(secret(24) ^ secret(32), seed);
    const high = input(length - 8) ^ (((secret(40) ^ secret(48)) - seed) & U64);
    return xxh3Avalanche(add64(n, byteSwap64(low), high, foldedProduct(low, high)));
  }
  if (length <= 128) {
    let acc = mul64(n, p1);
    for (let i = 0; i < 4; i++) {
      const inputAt = 48 - 16 * i;
      const secretAt = 96 - 32 * i;
      if (length > secretAt) {
        acc = add64(acc, mix16(inputAt, secretAt), mix16(length - inputAt - 16, secretAt + 16));
      }
    }
    return xxh3Avalanche(acc);
  }
  if (length <= 240) {
    let acc = mul64(n, p1);
    for (let i = 0; i < 8; i++) acc = add64(acc, mix16(16 * i, 16 * i));
    let tail = mix16(length - 16, 136 - 17);
    for (let i = 8; i < Math.floor(length / 16); i++) tail = add64(tail, mix16(16 * i, 16 * (i - 8) + 3));
    return xxh3Avalanche(add64(xxh3Avalanche(acc), tail));
  }
  // Long input: eight accumulator lanes over 64-byte stripes, with a seed-derived secret.
  const keyed = new DataView(new ArrayBuffer(192));
  for (let i = 0; i < 24; i++) {
    keyed.setBigUint64(8 * i, (i % 2 ? secret(8 * i) - seed : secret(8 * i) + seed) & U64, true);
  }
  const key = (offset) => keyed.getBigUint64(offset, true);
  const lanes = [XXH32_PRIME[2], p1, p2, XXH64_PRIME[2], XXH64_PRIME[3], XXH32_PRIME[1], XXH64_PRIME[4], XXH32_PRIME[0]]
    .map(BigInt);
  const accumulate = (stripeAt, keyAt) => {
    for (let lane = 0; lane < 8; lane++) {
      const data = input(stripeAt + 8 * lane);
      const mixed = data ^ key(keyAt + 8 * lane);
      lanes[lane ^ 1] = add64(lanes[lane ^ 1], data);
      lanes[lane] = add64(lanes[lane], (mixed & U32) * (mixed >> 32n));
    }
  };
  const stripes = Math.floor((length - 1) / 64);
  for (let stripe = 0; stripe < stripes; stripe++) {
    accumulate(64 * stripe, 8 * (stripe % 16));
    if (stripe % 16 === 15) {
      for (let lane = 0; lane < 8; lane++) {
        const scrambled = lanes[lane] ^ (lanes[lane] >> 47n) ^ key(128 + 8 * lane);
        lanes[lane] = mul64(scrambled, BigInt(XXH32_PRIME[0]));
      }
    }
  }
  accumulate(length - 64, 121);
  let result = mul64(n, p1);
  for (let i = 0; i < 4; i++) {
    result = add64(result, foldedProduct(lanes[2 * i] ^ key(11 + 16 * i), lanes[2 * i + 1] ^ key(19 + 16 * i)));
  }
  return xxh3Avalanche(result);
}

// Each Bun.hash function: its algorithm and how much of the 64-bit seed it keeps.
const BUN_HASHES = {
  wyhash: (bytes, seed) => wyhash(bytes, seed),
  adler32: (bytes) => adler32(bytes),
  crc32: (bytes, seed) => crc32(bytes, low32(seed)),
  cityHash32: (bytes) => cityHash32(bytes),
  cityHash64: (bytes, seed) => cityHash64(bytes, seed),
  xxHash32: (bytes, seed) => xxHash32(bytes, low32(seed)),
  xxHash64: (bytes, seed) => xxHash64(bytes, seed),
  xxHash3: (bytes, seed) => xxHash3(bytes, seed & U32),
  murmur32v2: (bytes, seed) => murmur32v2(bytes, low32(seed)),
  murmur32v3: (bytes, seed) => murmur32v3(bytes, low32(seed)),
  murmur64v2: (bytes, seed) => murmur64v2(bytes, seed),
  rapidhash: (bytes, seed) => rapidhash(bytes, seed),
};

function hashData(data, label) {
  if (data === undefined || data === null) {
    throw argumentError('ERR_INVALID_ARG_TYPE', 'data must be a string, ArrayBuffer, ArrayBufferView or Blob');
  }
  if (typeof data === 'string') return utf8Bytes(data);
  const bytes = bufferBytes(data);
  if (bytes) return bytes;
  if (isBlob(data)) throw notAvailable(`${label} of a Blob`, 'hash await blob.bytes() instead');
  return utf8Bytes(`${data}`);
}

function bunHashFunction(name, algorithm, label) {
  // A computed method name gives the function Bun's `name`; the default keeps `length` at 1.
  return {
    [name](data, seed = 0) {
      return algorithm(hashData(data, label), seedToU64(seed));
    },
  }[name];
}

/**
 * Bun.hash(data, seed?): Zig's Wyhash of the data's bytes (strings as UTF-8), as a BigInt.
 * Like Bun it carries hash.wyhash, adler32, crc32, cityHash32, cityHash64, xxHash32, xxHash64,
 * xxHash3, murmur32v2, murmur32v3, murmur64v2 and rapidhash, all equal to Bun's. Refused: Blob
 * input, which Bun reads synchronously.
 */
export const hash = bunHashFunction('hash', wyhash, 'Bun.hash');
for (const [name, algorithm] of Object.entries(BUN_HASHES)) {
  hash[name] = bunHashFunction(name, algorithm, `Bun.hash.${name}`);
}

// ---------------------------------------------------------------------------------------------
// Bun.CryptoHasher

// MD4 (RFC 1320), which Bun offers and noble lacks; built on noble's Merkle-Damgard base class
// the way noble builds MD5.
const MD4_ROUND3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
const MD4_SHIFTS = [
  [3, 7, 11, 19],
  [3, 5, 9, 13],
  [3, 9, 11, 15],
];

class Md4 extends HashMD {
  constructor() {
    super(64, 16, 8, true);
    this.set(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
    this.words = new Uint32Array(16);
  }
  get() {
    return [this.A, this.B, this.C, this.D];
  }
  set(a, b, c, d) {
    this.A = a | 0;
    this.B = b | 0;
    this.C = c | 0;
    this.D = d | 0;
  }
  process(view, offset) {
    const x = this.words;
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(offset + 4 * i, true);
    let [a, b, c, d] = this.get();
    for (let i = 0; i < 48; i++) {
      const round = i >> 4;
      let f;
      let k;
      if (round === 0) {
        f = (b & c) | (~b & d);
        k = i;
      } else if (round === 1) {
        f = ((b & c) | (b & d) | (c & d)) + 0x5a827999;
        k = ((i & 3) << 2) | ((i >> 2) & 3);
      } else {
        f = (b ^ c ^ d) + 0x6ed9eba1;
        k = MD4_ROUND3_ORDER[i & 15];
      }
      // Each step updates the next of a, d, c, b in turn; renaming keeps it in `a`.
      [a, b, c, d] = [d, rotl32((a + f + x[k]) | 0, MD4_SHIFTS[round][i & 3]), b, c];
    }
    this.set(this.A + a, this.B + b, this.C + c, this.D + d);
  }
  roundClean() {
    this.words.fill(0);
  }
  destroy() {
    this.set(0, 0, 0, 0);
    this.buffer.fill(0);
  }
}

// Bun's CryptoHasher algorithms in Bun's order; `keyed: false` where Bun refuses HMAC, `xof`
// for the extendable-output functions.
const CRYPTO_ALGORITHMS = new Map([
  ['blake2b256', { hasher: createHasher(() => blake2b.create({ dkLen: 32 })), keyed: true }],
  ['blake2b512', { hasher: blake2b, keyed: true }],
  ['blake2s256', { hasher: blake2s, keyed: false }],
  ['md4', { hasher: createHasher(() => new Md4()), keyed: true }],
  ['md5', { hasher: md5, keyed: true }],
  ['ripemd160', { hasher: ripemd160, keyed: true }],
  ['sha1', { hasher: sha1, keyed: true }],
  ['sha224', { hasher: sha224, keyed: true }],
  ['sha256', { hasher: sha256, keyed: true }],
  ['sha384', { hasher: sha384, keyed: true }],
  ['sha512', { hasher: sha512, keyed: true }],
  ['sha512-224', { hasher: sha512_224, keyed: true }],
  ['sha512-256', { hasher: sha512_256, keyed: true }],
  ['sha3-224', { hasher: sha3_224, keyed: true }],
  ['sha3-256', { hasher: sha3_256, keyed: true }],
  ['sha3-384', { hasher: sha3_384, keyed: true }],
  ['sha3-512', { hasher: sha3_512, keyed: true }],
  ['shake128', { hasher: shake128, keyed: false, xof: true }],
  ['shake256', { hasher: shake256, keyed: false, xof: true }],
]);

// Other names Bun accepts, matched ASCII-case-insensitively like the canonical ones.
const CRYPTO_ALGORITHM_ALIASES = new Map([
  ['rmd160', 'ripemd160'],
  ['sha128', 'sha1'],
  ['sha-1', 'sha1'],
  ['sha-224', 'sha224'],
  ['sha-256', 'sha256'],
  ['sha-384', 'sha384'],
  ['sha-512', 'sha512'],
  ['sha-512/224', 'sha512-224'],
  ['sha-512_224', 'sha512-224'],
  ['sha-512224', 'sha512-224'],
  ['sha-512/256', 'sha512-256'],
  ['sha-512_256', 'sha512-256'],
  ['sha-512256', 'sha512-256'],
  ['shake-128', 'shake128'],
  ['shake-256', 'shake256'],
]);

function cryptoAlgorithmName(name) {
  const lower = asciiLowerCase(name);
  return CRYPTO_ALGORITHMS.has(lower) ? lower : CRYPTO_ALGORITHM_ALIASES.get(lower);
}

// The encoding names Bun knows (ASCII-case-insensitive), mapped to the encoding they mean. Bun
// spells one differently from Node: "utf16-le", not "utf-16le".
const ENCODINGS = new Map([
  ['utf8', 'utf8'],
  ['utf-8', 'utf8'],
  ['ucs2', 'utf16le'],
  ['ucs-2', 'utf16le'],
  ['utf16le', 'utf16le'],
  ['utf16-le', 'utf16le'],
  ['latin1', 'latin1'],
  ['binary', 'latin1'],
  ['ascii', 'ascii'],
  ['base64', 'base64'],
  ['base64url', 'base64url'],
  ['hex', 'hex'],
  ['buffer', 'buffer'],
]);

function encodingOf(name) {
  const text = stringValue(name);
  return text === undefined ? undefined : ENCODINGS.get(asciiLowerCase(text));
}

// A digest as Bun encodes it; 'buffer' (a Buffer in Bun) gives the bytes as a Uint8Array.
function encodeDigest(bytes, encoding) {
  switch (encoding) {
    case 'buffer':
      return bytes;
    case 'hex':
      return hexString(bytes);
    case 'base64':
      return base64Encode(bytes, BASE64_ALPHABET).padEnd(Math.ceil(bytes.length / 3) * 4, '=');
    case 'base64url':
      return base64Encode(bytes, BASE64URL_ALPHABET);
    case 'latin1':
      return latin1String(bytes);
    case 'ascii':
      return latin1String(bytes.map((byte) => byte & 0x7f));
    case 'utf16le': {
      let text = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
      return text;
    }
    default:
      // ignoreBOM keeps a leading U+FEFF, as Bun does.
      return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  }
}

function digestEncoding(name) {
  const encoding = encodingOf(name);
  if (!encoding) throw argumentError('ERR_INVALID_ARG_VALUE', `Unknown encoding: ${name}`);
  return encoding;
}

// String input decoded the way Bun decodes it for CryptoHasher.update(text, encoding); an
// unknown or missing encoding means UTF-8.
function decodeString(text, encodingName) {
  switch (encodingOf(encodingName)) {
    case 'hex': {
      if (text.length % 2) {
        throw argumentError(
          'ERR_INVALID_ARG_VALUE',
          `The argument 'encoding' is invalid for data of length ${text.length}. Received '${encodingName}'`,
        );
      }
      // Like Node, decoding stops at the first pair that is not hex.
      const bytes = [];
      for (let i = 0; i < text.length && /^[0-9a-fA-F]{2}$/.test(text.slice(i, i + 2)); i += 2) {
        bytes.push(parseInt(text.slice(i, i + 2), 16));
      }
      return Uint8Array.from(bytes);
    }
    case 'base64':
    case 'base64url':
      return base64DecodeLoose(text);
    case 'latin1':
    case 'ascii':
    case 'buffer':
      return Uint8Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
    case 'utf16le': {
      const bytes = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        bytes[2 * i] = text.charCodeAt(i);
        bytes[2 * i + 1] = text.charCodeAt(i) >> 8;
      }
      return bytes;
    }
    default:
      return utf8Bytes(text);
  }
}

function cryptoInput(data, encodingName) {
  const text = stringValue(data);
  if (text !== undefined) return decodeString(text, encodingName);
  const bytes = bufferBytes(data);
  if (bytes) return bytes;
  if (isBlob(data)) throw notAvailable('Bun.CryptoHasher input from a Blob', 'pass await blob.bytes() instead');
  throw argumentError('ERR_INVALID_ARG_TYPE', 'input must be a string, ArrayBuffer, ArrayBufferView or Blob');
}

function digestTarget(output) {
  const target = bufferBytes(output);
  if (!target) {
    throw argumentError('ERR_INVALID_ARG_TYPE', 'output must be of type string or ArrayBuffer or ArrayBufferView');
  }
  return target;
}

/**
 * Bun.CryptoHasher: incremental hashing and HMAC with every algorithm Bun lists, under the names
 * and aliases Bun accepts, with Bun's encodings, errors and state rules (digest() resets a plain
 * hasher; an HMAC is consumed by its digest). Differences: a digest comes back as a Uint8Array
 * where Bun returns a Buffer, and Blob input is refused because Bun reads it synchronously.
 */
export class CryptoHasher {
  #algorithm;
  #state; // a noble hash or HMAC instance; null once an HMAC has been digested
  #isHmac;

  constructor(algorithm, hmacKey) {
    algorithm = stringValue(algorithm);
    if (algorithm === undefined) throw argumentError('ERR_INVALID_ARG_TYPE', 'algorithm must be a string');
    if (algorithm === '') throw argumentError('ERR_INVALID_ARG_TYPE', 'Invalid algorithm name');
    const name = cryptoAlgorithmName(algorithm);
    this.#isHmac = hmacKey !== undefined && hmacKey !== null;
    if (!this.#isHmac) {
      if (!name) throw argumentError('ERR_INVALID_ARG_TYPE', `Unsupported algorithm ${algorithm}`);
      this.#algorithm = name;
      this.#state = CRYPTO_ALGORITHMS.get(name).hasher.create();
      return;
    }
    const keyText = stringValue(hmacKey);
    const key = keyText === undefined ? bufferBytes(hmacKey) : utf8Bytes(keyText);
    if (!key) throw argumentError('ERR_INVALID_ARG_TYPE', 'hmacKey must be a string, ArrayBuffer or ArrayBufferView');
    if (!name) {
      const names = [...CRYPTO_ALGORITHMS.keys()].map((known) => `'${known}'`);
      throw argumentError(
        'ERR_INVALID_ARG_TYPE',
        `algorithm must be one of ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`,
      );
    }
    const { hasher, keyed } = CRYPTO_ALGORITHMS.get(name);
    if (!keyed) throw new Error('HMAC is not supported for this algorithm yet');
    this.#algorithm = name;
    this.#state = hmac.create(hasher, key);
  }

  /** Bun.CryptoHasher.algorithms: a fresh list of the canonical names on each read. */
  static get algorithms() {
    return [...CRYPTO_ALGORITHMS.keys()];
  }

  /** Bun.CryptoHasher.hash(algorithm, data, encodingOrTypedArray?): one-shot digest. */
  static hash(algorithm, data, output) {
    if (typeof algorithm !== 'string') throw argumentError('ERR_INVALID_ARG_TYPE', 'algorithm must be a string');
    const bytes = cryptoInput(data);
    const name = cryptoAlgorithmName(algorithm);
    if (!name) throw argumentError('ERR_INVALID_ARG_TYPE', `Unsupported algorithm "${algorithm}"`);
    const hasher = CRYPTO_ALGORITHMS.get(name).hasher;
    // Unlike digest(), Bun rejects a null output here.
    if (output === undefined) return hasher.create().update(bytes).digest();
    if (stringValue(output) !== undefined) {
      const encoding = digestEncoding(output);
      return encodeDigest(hasher.create().update(bytes).digest(), encoding);
    }
    const target = digestTarget(output);
    if (target.length < hasher.outputLen) {
      throw argumentError('ERR_INVALID_ARG_TYPE', `TypedArray must be at least ${hasher.outputLen} bytes`);
    }
    target.set(hasher.create().update(bytes).digest());
    return output;
  }

  get algorithm() {
    this.#usableState();
    return this.#algorithm;
  }

  get byteLength() {
    return this.#usableState().outputLen;
  }

  get [Symbol.toStringTag]() {
    return 'CryptoHasher';
  }

  /** Adds data: bytes, or a string decoded with `inputEncoding` (UTF-8 by default). */
  update(data, inputEncoding) {
    const bytes = cryptoInput(data, inputEncoding);
    this.#usableState().update(bytes);
    return this;
  }

  /**
   * The digest: bytes, a string in the given encoding, or written into the given ArrayBuffer or
   * view (which, as in Bun, must hold at least 64 bytes) and that object returned. Written into
   * memory, a SHAKE digest fills all of it, as in Bun.
   */
  digest(output) {
    if (output === undefined || output === null) return this.#finish();
    if (stringValue(output) !== undefined) {
      const encoding = digestEncoding(output);
      return encodeDigest(this.#finish(), encoding);
    }
    const target = digestTarget(output);
    if (target.length < 64) throw argumentError('ERR_INVALID_ARG_TYPE', 'TypedArray must be at least 64 bytes');
    target.set(this.#finish(CRYPTO_ALGORITHMS.get(this.#algorithm).xof ? target.length : undefined));
    return output;
  }

  copy() {
    const state = this.#usableState();
    const twin = new CryptoHasher(this.#algorithm);
    twin.#state = state.clone();
    twin.#isHmac = this.#isHmac;
    return twin;
  }

  #usableState() {
    if (!this.#state) throw new Error('HMAC has been consumed and is no longer usable');
    return this.#state;
  }

  // The digest, or `length` bytes of output from an extendable-output function.
  #finish(length) {
    const state = this.#usableState();
    const digest = length === undefined ? state.digest() : state.xof(length);
    this.#state = this.#isHmac ? null : CRYPTO_ALGORITHMS.get(this.#algorithm).hasher.create();
    return digest;
  }
}

// ---------------------------------------------------------------------------------------------
// Bun.password

const ARGON2 = { argon2id, argon2i, argon2d };
const ARGON2_DEFAULTS = { memoryCost: 65536, timeCost: 2 };
const BCRYPT_DEFAULT_COST = 10;
const MAX_U32 = 0xffffffff;
const UNKNOWN_PASSWORD_ALGORITHM =
  'unknown algorithm, expected one of: "bcrypt", "argon2id", "argon2d", "argon2i" (default is "argon2id")';

function passwordAlgorithm(name, caller) {
  if (name === 'bcrypt' || Object.hasOwn(ARGON2, name)) return name;
  throw argumentError(
    'ERR_INVALID_ARG_TYPE',
    `Expected algorithm to be a ${UNKNOWN_PASSWORD_ALGORITHM} for '${caller}'.`,
  );
}

// Bun takes a password or hash as a string (UTF-8) or bytes. Its async functions also accept any
// other value but undefined and hash its string form.
function secretBytes(value, name, stringifyOthers) {
  const text = stringValue(value);
  if (text !== undefined) return utf8Bytes(text);
  const bytes = bufferBytes(value);
  if (bytes) return bytes.slice();
  if (stringifyOthers && value !== undefined) return utf8Bytes(`${value}`);
  throw argumentError('ERR_INVALID_ARG_TYPE', `${name} must be a string, ArrayBuffer or ArrayBufferView`);
}

function costOption(value, name, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') {
    throw argumentError('ERR_INVALID_ARG_TYPE', `Expected ${name} to be a number for 'hash'.`);
  }
  return value;
}

function integerIn(value, minimum, maximum) {
  return Number.isInteger(value) && value >= minimum && value <= maximum;
}

function hashParameters(options) {
  if (options === undefined || options === null) return { algorithm: 'argon2id', ...ARGON2_DEFAULTS };
  if (typeof options === 'string') {
    const algorithm = passwordAlgorithm(options, 'hash');
    return algorithm === 'bcrypt' ? { algorithm, cost: BCRYPT_DEFAULT_COST } : { algorithm, ...ARGON2_DEFAULTS };
  }
  if (typeof options !== 'object' && typeof options !== 'function') {
    throw argumentError('ERR_INVALID_ARG_TYPE', 'PasswordHashOptions must be an object');
  }
  if (options.algorithm === undefined || options.algorithm === null || options.algorithm === '') {
    throw argumentError('ERR_INVALID_ARG_TYPE', "Expected options.algorithm to be a string for 'hash'.");
  }
  const name = stringValue(options.algorithm);
  if (name === undefined) throw argumentError('ERR_INVALID_ARG_TYPE', 'PasswordHashOptions.algorithm must be a string');
  const algorithm = passwordAlgorithm(name, 'hash');
  if (algorithm === 'bcrypt') {
    const cost = costOption(options.cost, 'cost', BCRYPT_DEFAULT_COST);
    if (!integerIn(cost, 4, 31)) {
      throw argumentError('ERR_INVALID_ARG_TYPE', 'Rounds must be an integer between 4 and 31');
    }
    return { algorithm, cost };
  }
  const timeCost = costOption(options.timeCost, 'timeCost', ARGON2_DEFAULTS.timeCost);
  if (!(timeCost >= 1)) throw argumentError('ERR_INVALID_ARG_TYPE', 'Time cost must be greater than 0');
  if (!integerIn(timeCost, 1, MAX_U32)) {
    throw argumentError('ERR_INVALID_ARG_TYPE', 'Time cost must be an integer between 1 and 4294967295');
  }
  const memoryCost = costOption(options.memoryCost, 'memoryCost', ARGON2_DEFAULTS.memoryCost);
  if (!(memoryCost >= 8)) throw argumentError('ERR_INVALID_ARG_TYPE', 'Memory cost must be at least 8');
  if (!integerIn(memoryCost, 8, MAX_U32)) {
    throw argumentError('ERR_INVALID_ARG_TYPE', 'Memory cost must be an integer between 8 and 4294967295');
  }
  return { algorithm, timeCost, memoryCost };
}

// Validates hash() arguments the way Bun does before any work starts.
function hashRequest(password, options, stringifyOthers) {
  const bytes = secretBytes(password, 'password', stringifyOthers);
  const parameters = hashParameters(options);
  if (bytes.length === 0) throw argumentError('ERR_INVALID_ARG_TYPE', 'password must not be empty');
  return { password: bytes, parameters };
}

// Argon2 in a component runs on an engine without a JIT: measured, ~1.7 s per MiB of memory
// cost per pass (bcrypt: 5.8 s at cost 10), so Bun's default (64 MiB, 2 passes) would take
// about 4 minutes. Above this much work (~14 s) it is refused at once instead.
const ARGON2_WORK_LIMIT_KIB = 8 * 1024;

function checkArgon2Work(memoryCost, timeCost, what) {
  if (memoryCost * timeCost <= ARGON2_WORK_LIMIT_KIB) return;
  const minutes = Math.round((memoryCost / 1024) * timeCost * 1.7 / 60);
  throw notAvailable(
    `${what} with argon2 at ${memoryCost} KiB × ${timeCost} passes`,
    `it would take about ${minutes || '<1'} minute(s) without a JIT; hash passwords in a native service, or use { algorithm: "bcrypt", cost: 8 } (~1.5 s)`,
  );
}

function hashPassword({ password, parameters }) {
  if (parameters.algorithm === 'bcrypt') return bcryptHash(password, parameters.cost);
  const { algorithm, timeCost, memoryCost } = parameters;
  checkArgon2Work(memoryCost, timeCost, 'Bun.password.hash');
  const salt = randomBytes(32);
  const digest = ARGON2[algorithm](password, salt, { t: timeCost, m: memoryCost, p: 1, dkLen: 32 });
  const encoded = (bytes) => base64Encode(bytes, BASE64_ALPHABET);
  return `$${algorithm}$v=19$m=${memoryCost},t=${timeCost},p=1$${encoded(salt)}$${encoded(digest)}`;
}

// Bun's verification failures: an Error whose code names the failure, e.g. PASSWORD_INVALID_ENCODING.
function verificationError(failure) {
  const error = new Error(`Password verification failed with error "${failure}"`);
  error.code = `PASSWORD${failure.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
  return error;
}

function verifyRequest(password, hash, algorithm, stringifyOthers) {
  const passwordBytes = secretBytes(password, 'password', stringifyOthers);
  // Hash strings are parsed byte by byte, as Bun does.
  const hashText = latin1String(secretBytes(hash, 'hash', stringifyOthers));
  if (algorithm !== undefined && algorithm !== null) {
    const name = stringValue(algorithm);
    if (name === undefined) throw argumentError('ERR_INVALID_ARG_TYPE', 'algorithm must be a string');
    algorithm = passwordAlgorithm(name, 'verify');
  }
  return { password: passwordBytes, hash: hashText, algorithm };
}

function detectPasswordAlgorithm(text) {
  for (const algorithm of ['argon2id', 'argon2i', 'argon2d']) {
    if (text.startsWith(`$${algorithm}$`)) return algorithm;
  }
  if (text.startsWith('$2') || text.startsWith('$bcrypt')) return 'bcrypt';
  return undefined;
}

function verifyPassword({ password, hash, algorithm }) {
  if (hash.length === 0 || password.length === 0) return false;
  const family = algorithm ?? detectPasswordAlgorithm(hash);
  if (!family) throw verificationError('UnsupportedAlgorithm');
  return family === 'bcrypt' ? bcryptVerify(password, hash) : argon2Verify(password, hash);
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

const ARGON2_PHC = /^\$(argon2id|argon2i|argon2d)(?:\$v=19)?\$m=(\+?\d+),t=(\+?\d+),p=(\+?\d+)\$([^$]*)\$([^$]*)$/;

// Bun's argon2 PHC reading: `$argon2<variant>[$v=19]$m=<m>,t=<t>,p=<p>$<salt>$<hash>`, exactly.
function argon2Verify(password, text) {
  const match = ARGON2_PHC.exec(text);
  if (!match) throw verificationError('InvalidEncoding');
  const [, variant, ...fields] = match;
  const [m, t, p] = fields.slice(0, 3).map(Number);
  const salt = base64DecodeStrict(fields[3], BASE64_ALPHABET);
  const expected = base64DecodeStrict(fields[4], BASE64_ALPHABET);
  if ([m, t, p].some((value) => value > MAX_U32) || !salt || !expected) throw verificationError('InvalidEncoding');
  if (t < 1 || p < 1 || p > 0xffffff || salt.length < 8 || expected.length < 4) {
    throw verificationError('WeakParameters');
  }
  // Bun still hashes with m < 8p (standard Argon2 forbids it); noble cannot follow it there.
  if (m < 8 * p) throw notAvailable('Bun.password.verify of an argon2 hash with m < 8*p');
  checkArgon2Work(m, t, 'Bun.password.verify');
  const actual = ARGON2[variant](password, salt, { t, m, p, dkLen: expected.length });
  return constantTimeEqual(actual, expected);
}

// bcrypt

// Blowfish's initial P-array and S-boxes are the fractional hex digits of pi: compute them (once,
// on first use) instead of carrying 4 KiB of constants. Machin's formula in fixed point, with 64
// guard bits to absorb the truncation of each term.
let blowfishInitialState;

function blowfishInitial() {
  if (!blowfishInitialState) {
    const words = 18 + 4 * 256;
    const bits = BigInt(32 * words + 64);
    const one = 1n << bits;
    const arctanOfInverse = (x) => {
      let power = one / x;
      let sum = power;
      for (let k = 1n; power !== 0n; k++) {
        power /= x * x;
        sum += (k % 2n ? -power : power) / (2n * k + 1n);
      }
      return sum;
    };
    const fraction = 16n * arctanOfInverse(5n) - 4n * arctanOfInverse(239n) - 3n * one;
    blowfishInitialState = Int32Array.from({ length: words }, (_, i) =>
      Number((fraction >> (bits - 32n * BigInt(i + 1))) & U32),
    );
  }
  return blowfishInitialState;
}

// Blowfish state layout: P-array at 0..17, then the four S-boxes of 256 words.
const S0 = 18;
const S1 = S0 + 256;
const S2 = S1 + 256;
const S3 = S2 + 256;

function blowfishF(state, x) {
  return (((state[S0 + (x >>> 24)] + state[S1 + ((x >>> 16) & 255)]) ^ state[S2 + ((x >>> 8) & 255)]) +
    state[S3 + (x & 255)]) | 0;
}

// Encrypts the 64-bit block block[0], block[1] in place.
function blowfishEncrypt(state, block) {
  let left = block[0] ^ state[0];
  let right = block[1];
  for (let i = 1; i <= 16; i += 2) {
    right ^= blowfishF(state, left) ^ state[i];
    left ^= blowfishF(state, right) ^ state[i + 1];
  }
  block[0] = right ^ state[17];
  block[1] = left;
}

// `count` big-endian words read cyclically from `bytes` (Blowfish's stream2word).
function cyclicWords(bytes, count) {
  return Int32Array.from({ length: count }, (_, word) => {
    let value = 0;
    for (let i = 4 * word; i < 4 * word + 4; i++) value = (value << 8) | bytes[i % bytes.length];
    return value;
  });
}

// Blowfish_expandstate, or Blowfish_expand0state when there is no salt.
function blowfishExpand(state, keyWords, saltWords) {
  for (let i = 0; i < 18; i++) state[i] ^= keyWords[i];
  const block = new Int32Array(2);
  for (let i = 0; i < state.length; i += 2) {
    if (saltWords) {
      block[0] ^= saltWords[i & 3];
      block[1] ^= saltWords[(i & 3) + 1];
    }
    blowfishEncrypt(state, block);
    state[i] = block[0];
    state[i + 1] = block[1];
  }
}

// The 23 bytes a bcrypt string carries. Like Bun, passwords over 72 bytes are first replaced by
// their SHA-512 (bcrypt itself would ignore everything past byte 72).
function bcryptDigest(password, salt, cost) {
  const secret = password.length > 72 ? sha512(password) : password;
  const key = new Uint8Array(Math.min(secret.length + 1, 72)); // NUL-terminated, at most 72 bytes
  key.set(secret.subarray(0, key.length));
  const keyWords = cyclicWords(key, 18);
  const saltWords = cyclicWords(salt, 4);
  const saltAsKey = cyclicWords(salt, 18);
  const state = blowfishInitial().slice();
  blowfishExpand(state, keyWords, saltWords);
  for (let round = 2 ** cost; round > 0; round--) {
    blowfishExpand(state, keyWords);
    blowfishExpand(state, saltAsKey);
  }
  const text = cyclicWords(utf8Bytes('OrpheanBeholderScryDoubt'), 6);
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 6; j += 2) blowfishEncrypt(state, text.subarray(j, j + 2));
  }
  const digest = new DataView(new ArrayBuffer(24));
  text.forEach((word, i) => digest.setInt32(4 * i, word));
  return new Uint8Array(digest.buffer, 0, 23);
}

function bcryptHash(password, cost) {
  const salt = randomBytes(16);
  const digest = bcryptDigest(password, salt, cost);
  const encoded = (bytes) => base64Encode(bytes, BCRYPT_ALPHABET);
  return `$2b$${String(cost).padStart(2, '0')}$${encoded(salt)}${encoded(digest)}`;
}

const BCRYPT_CRYPT = /^\$2[abxy]\$(\+?\d+)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;
const BCRYPT_PHC = /^\$bcrypt\$r=(\d+)\$([^$]*)\$([^$]*)$/;

// Bun's bcrypt strings: the 60-byte modular-crypt form ($2a$, $2b$, $2x$ and $2y$ all verify the
// same), or else its PHC reader's `$bcrypt$r=<cost>$<salt>$<hash>` in standard base64, where a
// string naming another algorithm just fails to verify.
function bcryptVerify(password, text) {
  let fields;
  if (text.startsWith('$2')) {
    const match = text.length === 60 ? BCRYPT_CRYPT.exec(text) : null;
    fields = match && {
      cost: Number(match[1]),
      salt: base64DecodeStrict(match[2], BCRYPT_ALPHABET),
      digest: base64DecodeStrict(match[3], BCRYPT_ALPHABET),
    };
  } else {
    const parts = text.split('$');
    if (parts[0] === '' && parts.length >= 3 && parts[1] !== 'bcrypt') return false;
    const match = BCRYPT_PHC.exec(text);
    // The PHC reader holds the cost in 6 bits.
    fields = match && Number(match[1]) < 64 && {
      cost: Number(match[1]),
      salt: base64DecodeStrict(match[2], BASE64_ALPHABET),
      digest: base64DecodeStrict(match[3], BASE64_ALPHABET),
    };
  }
  if (fields?.salt?.length !== 16 || fields.digest?.length !== 23) throw verificationError('InvalidEncoding');
  if (fields.cost < 4 || fields.cost > 31) throw verificationError('WeakParameters');
  return constantTimeEqual(bcryptDigest(password, fields.salt, fields.cost), fields.digest);
}

/**
 * Bun.password: hash / hashSync produce Bun's PHC strings (argon2id by default with Bun's
 * m=65536, t=2, p=1, 32-byte salt and hash; argon2i, argon2d and bcrypt on request, bcrypt with
 * Bun's SHA-512 pre-hash of passwords over 72 bytes), and verify / verifySync check Bun's
 * hashes (also bcrypt's $2a$/$2x$/$2y$ and PHC forms), with Bun's option checks and error codes.
 * The async forms validate synchronously like Bun and compute in a later job (a component has no
 * worker threads). Refused: verifying an argon2 hash with m < 8*p, which standard Argon2 forbids
 * and Bun computes anyway in its own way.
 */
export const password = {
  hash(password, options) {
    const request = hashRequest(password, options, true);
    return Promise.resolve().then(() => hashPassword(request));
  },
  hashSync(password, options) {
    return hashPassword(hashRequest(password, options, false));
  },
  verify(password, hash, algorithm) {
    const request = verifyRequest(password, hash, algorithm, true);
    return Promise.resolve().then(() => verifyPassword(request));
  },
  verifySync(password, hash, algorithm) {
    return verifyPassword(verifyRequest(password, hash, algorithm, false));
  },
};

// ---------------------------------------------------------------------------------------------
// Bun.deepEquals

// Stands for an array hole, which Bun tells apart from an undefined element.
const HOLE = {};

const isObject = (value) => (typeof value === 'object' && value !== null) || typeof value === 'function';
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// Brand checks: intrinsic methods that throw for objects of any other kind.
function hasBrand(intrinsic, value) {
  try {
    intrinsic.call(value);
    return true;
  } catch {
    return false;
  }
}

function typedArrayName(value) {
  const typedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype);
  return Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag).get.call(value);
}

const isInstance = (value, name) => typeof globalThis[name] === 'function' && value instanceof globalThis[name];

let brandChecks;

// The built-in kind of an object that Bun compares specially, or undefined for ordinary objects
// (an object whose prototype is Object.prototype or null is taken to be ordinary).
function builtinKind(value) {
  if (typeof value === 'function') return 'Function';
  if (ArrayBuffer.isView(value)) return typedArrayName(value) ? 'TypedArray' : 'DataView';
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null || Array.isArray(value)) return undefined;
  if (value instanceof Error) return 'Error';
  brandChecks ??= [
    ['Map', Map.prototype.has],
    ['Set', Set.prototype.has],
    ['Date', Date.prototype.getTime],
    ['RegExp', Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get],
    ['ArrayBuffer', Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get],
    ['Number', Number.prototype.valueOf],
    ['String', String.prototype.valueOf],
    ['Boolean', Boolean.prototype.valueOf],
    ['Symbol', Symbol.prototype.valueOf],
    ['BigInt', BigInt.prototype.valueOf],
  ];
  for (const [kind, intrinsic] of brandChecks) if (hasBrand(intrinsic, value)) return kind;
  if (isSharedArrayBuffer(value)) return 'SharedArrayBuffer';
  for (const kind of ['URL', 'URLSearchParams', 'Headers']) if (isInstance(value, kind)) return kind;
  return undefined;
}

// The name Bun's strict mode compares: that of the `constructor` data property found on the
// object or its prototypes, "Object" when there is none or it has no name.
function className(object) {
  for (let current = object; current !== null; current = Object.getPrototypeOf(current)) {
    const descriptor = Object.getOwnPropertyDescriptor(current, 'constructor');
    if (descriptor) {
      const name = typeof descriptor.value === 'function' ? descriptor.value.name : undefined;
      return typeof name === 'string' && name !== '' ? name : 'Object';
    }
  }
  return 'Object';
}

const ownEnumerableKeys = (object) =>
  Reflect.ownKeys(object).filter((key) => Object.prototype.propertyIsEnumerable.call(object, key));

// Enumerable string keys, inherited ones included (for...in), plus own enumerable symbols.
function enumerableKeys(object) {
  const keys = [];
  for (const key in object) keys.push(key);
  return keys.concat(ownEnumerableKeys(object).filter((key) => typeof key === 'symbol'));
}

const ERROR_SUBTYPES = [
  'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
];

// The native error type an error was made as, which Bun requires to match.
const errorType = (error) => ERROR_SUBTYPES.find((name) => isInstance(error, name)) ?? 'Error';

function bytesOf(buffer) {
  return ArrayBuffer.isView(buffer) ? bufferBytes(buffer) : new Uint8Array(buffer);
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const FLOAT_ARRAYS = ['Float16Array', 'Float32Array', 'Float64Array'];

function typedArraysEqual(a, b, strict) {
  const type = typedArrayName(a);
  if (typedArrayName(b) !== type || a.byteLength !== b.byteLength) return false;
  // Strict mode compares extra own properties too, as an ordinary object.
  const extras = strict && (Reflect.ownKeys(a).length !== a.length || Reflect.ownKeys(b).length !== b.length);
  // Non-strict float arrays compare numerically (0 equals -0, NaN differs from NaN).
  const contentsEqual = !strict && FLOAT_ARRAYS.includes(type)
    ? a.every((value, i) => value === b[i])
    : sameBytes(bytesOf(a), bytesOf(b));
  return contentsEqual ? (extras ? undefined : true) : false;
}

function mapsEqual(a, b, strict, path) {
  if (Reflect.get(Map.prototype, 'size', a) !== Reflect.get(Map.prototype, 'size', b)) return false;
  for (const [key, value] of Map.prototype.entries.call(a)) {
    let other = Map.prototype.get.call(b, key);
    if (other === undefined) {
      // No entry under this exact key: look for a deep-equal key, as Bun does.
      const entries = [...Map.prototype.entries.call(b)];
      const match = entries.find(([otherKey]) => valuesEqual(key, otherKey, strict, path, false));
      if (!match) return false;
      other = match[1];
    }
    if (!valuesEqual(value, other, strict, path, false)) return false;
  }
  return true;
}

function setsEqual(a, b, strict, path) {
  if (Reflect.get(Set.prototype, 'size', a) !== Reflect.get(Set.prototype, 'size', b)) return false;
  for (const value of Set.prototype.values.call(a)) {
    if (Set.prototype.has.call(b, value)) continue;
    const others = [...Set.prototype.values.call(b)];
    if (!others.some((other) => valuesEqual(value, other, strict, path, false))) return false;
  }
  return true;
}

// Bun reads an error's message only from its own property.
const ownMessage = (error) => (hasOwn(error, 'message') ? String(error.message) : undefined);

function errorsEqual(a, b, strict, path) {
  if (errorType(a) !== errorType(b) || String(a.name) !== String(b.name) || ownMessage(a) !== ownMessage(b)) {
    return false;
  }
  if (strict && ('cause' in a) !== ('cause' in b)) return false;
  if (!valuesEqual(a.cause, b.cause, strict, path)) return false;
  // Enumerable properties except `stack`, walked like Bun walks them.
  const keysA = enumerableKeys(a);
  const keysB = enumerableKeys(b);
  if (strict && keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (key === 'stack') continue;
    if (!(key in b)) {
      if (!strict && a[key] === undefined) continue;
      return false;
    }
    if (!valuesEqual(a[key], b[key], strict, path)) return false;
  }
  return keysB.slice(keysA.length).every((key) => key === 'stack' || b[key] === undefined);
}

function entriesMatch(a, b) {
  const entriesA = [...a];
  return entriesA.length === [...b].length && entriesA.every(([key, value]) => b.get(key) === value);
}

// Bun's comparison of one object of a built-in kind with another object: true or false, or
// undefined to go on comparing them as ordinary objects.
function specialEqual(a, b, strict, path) {
  const kind = builtinKind(a);
  if (kind === undefined || kind === 'DataView') return undefined;
  if (kind === 'Function') return false;
  const otherKind = builtinKind(b);
  switch (kind) {
    case 'Map':
      return otherKind === kind && mapsEqual(a, b, strict, path);
    case 'Set':
      return otherKind === kind && setsEqual(a, b, strict, path);
    case 'Date':
      return otherKind === kind && Date.prototype.getTime.call(a) === Date.prototype.getTime.call(b);
    case 'RegExp':
      return otherKind === kind && a.source === b.source && a.flags === b.flags;
    case 'ArrayBuffer':
    case 'SharedArrayBuffer':
      return otherKind === kind && sameBytes(bytesOf(a), bytesOf(b));
    case 'Error':
      return otherKind === kind && errorsEqual(a, b, strict, path);
    case 'TypedArray':
      return otherKind === kind && typedArraysEqual(a, b, strict);
    case 'String':
      if (otherKind !== kind || className(a) !== className(b) || `${a}` !== `${b}`) return false;
      return strict && (ownEnumerableKeys(a).length > a.length || ownEnumerableKeys(b).length > b.length)
        ? undefined
        : true;
    // Web objects of the same class are checked by content, then compared as ordinary objects;
    // against anything else they are just ordinary objects.
    case 'URL':
      if (otherKind !== kind) return undefined;
      return a.href === b.href ? undefined : false;
    case 'URLSearchParams':
    case 'Headers':
      if (otherKind !== kind) return undefined;
      return entriesMatch(a, b) ? undefined : false;
    default: {
      // Boxed Number, Boolean, Symbol and BigInt: same kind and value, then own properties.
      if (otherKind !== kind) return false;
      return Object.is(a.valueOf(), b.valueOf()) ? undefined : false;
    }
  }
}

function arraysEqual(a, b, strict, path) {
  if (strict && a.length !== b.length) return false;
  // Bun reads elements without running getters: an accessor element counts as a hole.
  const elementAt = (array, i) => {
    const descriptor = Object.getOwnPropertyDescriptor(array, i);
    return descriptor && 'value' in descriptor ? descriptor.value : HOLE;
  };
  let i = 0;
  for (; i < a.length; i++) {
    const left = elementAt(a, i);
    const right = elementAt(b, i);
    if (left === HOLE || right === HOLE) {
      // Non-strict, a hole matches undefined; strict, only another hole.
      if (left === right || (!strict && (left === undefined || right === undefined))) continue;
      return false;
    }
    if (!valuesEqual(left, right, strict, path)) return false;
  }
  for (; i < b.length; i++) {
    const right = elementAt(b, i);
    if (right !== HOLE && right !== undefined) return false;
  }
  // Bun compares an array's own enumerable symbol properties but no other non-index ones.
  const symbolsA = ownEnumerableKeys(a).filter((key) => typeof key === 'symbol');
  if (strict && symbolsA.length !== ownEnumerableKeys(b).filter((key) => typeof key === 'symbol').length) return false;
  for (const symbol of symbolsA) {
    if (!(symbol in b)) {
      if (!strict && a[symbol] === undefined) continue;
      return false;
    }
    if (!valuesEqual(a[symbol], b[symbol], strict, path)) return false;
  }
  return true;
}

// Own enumerable properties (strings and symbols). Non-strict, a property holding undefined
// matches a missing one; strict, both sides need the same enumerable keys.
function propertiesEqual(a, b, strict, path) {
  const keysA = ownEnumerableKeys(a);
  const pairs = [];
  for (const key of keysA) {
    const present = strict ? Object.prototype.propertyIsEnumerable.call(b, key) : hasOwn(b, key);
    if (!present) {
      if (!strict && a[key] === undefined) continue;
      return false;
    }
    pairs.push([a[key], b[key]]);
  }
  let unmatched = keysA.length;
  for (const key of ownEnumerableKeys(b)) {
    if (!strict && b[key] === undefined) continue;
    if (!hasOwn(a, key) || unmatched === 0) return false;
    unmatched--;
  }
  return pairs.every(([left, right]) => valuesEqual(left, right, strict, path));
}

function objectsEqual(a, b, strict, path) {
  const special = specialEqual(a, b, strict, path) ?? specialEqual(b, a, strict, path);
  if (special !== undefined) return special;
  const isArray = Array.isArray(a);
  if (isArray !== Array.isArray(b)) return false;
  if (isArray) return arraysEqual(a, b, strict, path);
  if (strict && className(a) !== className(b)) return false;
  return propertiesEqual(a, b, strict, path);
}

// `path` holds the pairs being compared further up, so that cycles end: a pair met again is
// equal exactly when both sides recur together.
function valuesEqual(a, b, strict, path, trackPair = true) {
  if (Object.is(a, b)) return true;
  if (!isObject(a) || !isObject(b)) return false;
  for (const [left, right] of path) {
    if (left === a) return right === b;
    if (right === b) return false;
  }
  if (!trackPair) return objectsEqual(a, b, strict, path);
  path.push([a, b]);
  try {
    return objectsEqual(a, b, strict, path);
  } finally {
    path.pop();
  }
}

/**
 * Bun.deepEquals(a, b, strict = false): Bun's comparison behind expect().toEqual() and, with
 * `strict`, toStrictEqual(): SameValue for primitives (NaN equals NaN, 0 differs from -0), arrays
 * (holes, trailing undefined), own enumerable properties (undefined ones ignored unless strict),
 * Date, RegExp, Map, Set, typed arrays, ArrayBuffer, Error (name, message, cause, properties),
 * boxed primitives, URL, URLSearchParams, Headers and cycles; strict mode also compares class
 * names. Objects whose prototype is Object.prototype or null are always treated as ordinary.
 */
export function deepEquals(a, b, strict = false) {
  if (arguments.length < 2) throw new TypeError('Expected 2 values to compare');
  return valuesEqual(a, b, Boolean(strict), []);
}

// ---------------------------------------------------------------------------------------------
// Bun.escapeHTML

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

/**
 * Bun.escapeHTML(value): the value as a string (converted like `${value}`) with & < > " '
 * replaced by &amp; &lt; &gt; &quot; &#x27;, exactly Bun's set. Nothing is refused.
 */
export function escapeHTML(value) {
  return `${value}`.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}
