// Checks toolchains/js/bun/utils.js against the real Bun APIs it re-implements.
//
//   WARP_JS_TOOLCHAIN=DIR bun toolchains/js/bun/utils.test.mjs   (DIR: an install of warp's JS
//                                                                  toolchain, whose bun runs this)
//
// utils.js imports @noble/hashes from the JS toolchain's node_modules: the directory named by
// WARP_JS_TOOLCHAIN (tests/it/bun.rs runs it so). The test bundles utils.js the way warp does (Bun.build,
// target browser) with @noble resolved there, imports the bundle from a temporary directory,
// then runs every case through both utils.js and Bun.* and compares the outcomes: values, or
// thrown errors by class, `code` and message. A case utils.js answers with its
// "is not available in a warp component" error counts as refused, not as a difference.
// It prints a summary per API and exits non-zero on any difference.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const toolchain = process.env.WARP_JS_TOOLCHAIN;
if (!toolchain) {
  console.error('set WARP_JS_TOOLCHAIN to an install of warp\'s JS toolchain (its directory holds node_modules)');
  process.exit(2);
}

async function loadUtils() {
  const built = await Bun.build({
    entrypoints: [join(import.meta.dir, 'utils.js')],
    target: 'browser',
    format: 'esm',
    plugins: [
      {
        name: 'toolchain-node-modules',
        setup(build) {
          build.onResolve({ filter: /^@noble\/hashes\// }, ({ path }) => ({ path: join(toolchain, 'node_modules', path) }));
        },
      },
    ],
  });
  if (!built.success) throw new AggregateError(built.logs, 'Bun.build of utils.js failed');
  const code = await built.outputs[0].text();
  const nodeism = /\brequire\s*\(|["']node:|\bprocess\.|\bBuffer\b/.exec(code);
  if (nodeism) throw new Error(`the utils.js bundle uses a Node API: ${nodeism[0]}`);
  const directory = mkdtempSync(join(tmpdir(), 'warp-bun-utils-'));
  try {
    const file = join(directory, 'utils.mjs');
    writeFileSync(file, code);
    return await import(file);
  } finally {
    rmSync(directory, { recursive: true });
  }
}

const utils = await loadUtils();
const REFUSED = /is not available in a warp component/;

// ---------------------------------------------------------------------------------------------
// Comparing outcomes

const sections = new Map();
const differences = [];
const refusals = new Map(); // refusal message -> { count, example }

function section(name) {
  if (!sections.has(name)) sections.set(name, { equal: 0, different: 0, refused: 0 });
  return sections.get(name);
}

function run(scenario) {
  try {
    return { value: scenario() };
  } catch (error) {
    return { error };
  }
}

const isBytes = (value) => value instanceof Uint8Array;

function sameValue(ours, theirs) {
  // Bun answers with Buffers where utils.js gives plain Uint8Arrays.
  if (isBytes(theirs)) {
    return isBytes(ours) && !(ours instanceof Buffer) && Buffer.compare(Buffer.from(ours), theirs) === 0;
  }
  if (Array.isArray(theirs)) {
    return Array.isArray(ours) && ours.length === theirs.length && ours.every((item, i) => sameValue(item, theirs[i]));
  }
  return Object.is(ours, theirs);
}

function sameError(ours, theirs) {
  return ours?.constructor?.name === theirs?.constructor?.name && ours.code === theirs.code && ours.message === theirs.message;
}

function show(outcome) {
  let text;
  if ('error' in outcome) {
    const { error } = outcome;
    text = `throws ${error?.constructor?.name}${error?.code ? ` [${error.code}]` : ''}: ${error?.message}`;
  } else if (isBytes(outcome.value)) {
    text = `${outcome.value.constructor.name}(${Buffer.from(outcome.value).toString('hex')})`;
  } else {
    text = typeof outcome.value === 'bigint' ? `${outcome.value}n` : JSON.stringify(outcome.value) ?? String(outcome.value);
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

function record(name, label, ours, theirs) {
  const stats = section(name);
  if ('error' in ours && REFUSED.test(ours.error?.message)) {
    stats.refused++;
    const refusal = refusals.get(ours.error.message) ?? { count: 0, example: `${name}: ${label}; bun gives ${show(theirs)}` };
    refusal.count++;
    refusals.set(ours.error.message, refusal);
  } else if ('error' in ours || 'error' in theirs ? sameError(ours.error, theirs.error) : sameValue(ours.value, theirs.value)) {
    stats.equal++;
  } else {
    stats.different++;
    differences.push(`${name}: ${label}\n    utils.js: ${show(ours)}\n    bun:      ${show(theirs)}`);
  }
}

// Runs `scenario(api)` with utils.js and with Bun and compares what each returns or throws.
function compare(name, label, scenario) {
  record(name, label, run(() => scenario(utils)), run(() => scenario(Bun)));
}

// The same for scenarios returning promises: a synchronous throw, a rejection or a value.
async function settle(scenario) {
  let promise;
  try {
    promise = scenario();
  } catch (error) {
    // A synchronous throw must meet a synchronous throw, so it is compared as a description.
    return REFUSED.test(error?.message) ? { error } : { value: `throws synchronously: ${show({ error })}` };
  }
  if (!(promise instanceof Promise)) return { value: 'not a promise' };
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

async function compareAsync(name, label, scenario) {
  const [ours, theirs] = await Promise.all([settle(() => scenario(utils)), settle(() => scenario(Bun))]);
  record(name, label, ours, theirs);
}

// Deterministic pseudo-random data (mulberry32).
let randomState = 0x9e3779b9;
function random() {
  randomState = (randomState + 0x6d2b79f5) | 0;
  let t = Math.imul(randomState ^ (randomState >>> 15), 1 | randomState);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
}
const randomInt = (limit) => Math.floor(random() * limit);
const randomBytes = (length) => Uint8Array.from({ length }, () => randomInt(256));
const randomU64 = () => (BigInt(randomInt(2 ** 32)) << 32n) | BigInt(randomInt(2 ** 32));
const randomText = (length, alphabet) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');

// ---------------------------------------------------------------------------------------------
// Bun.hash

{
  const HASH_FUNCTIONS = ['hash', ...Object.keys(Bun.hash)];
  const call = (api, name, ...args) => (name === 'hash' ? api.hash(...args) : api.hash[name](...args));

  compare('Bun.hash', 'variant names', (api) => Object.keys(api.hash));
  for (const name of HASH_FUNCTIONS) {
    compare('Bun.hash', `${name}.name and .length`, (api) => {
      const fn = name === 'hash' ? api.hash : api.hash[name];
      return [fn.name, fn.length];
    });
  }

  const backing = randomBytes(64);
  const inputs = [
    ...Array.from({ length: 301 }, (_, length) => [`${length} random bytes`, randomBytes(length)]),
    ...[383, 384, 511, 512, 1000, 1023, 1024, 1025, 1088, 2048, 4097, 17000].map((length) => [`${length} random bytes`, randomBytes(length)]),
    ['empty string', ''],
    ['"hello"', 'hello'],
    ['Latin-1 text', 'héllo wörld ÿ'],
    ['CJK text', '日本語のテキスト'],
    ['emoji', '😀👍🏽 family 👨‍👩‍👧'],
    ['lone surrogates', 'a\ud800b\udc00c'],
    ['long unicode text', randomText(500, 'aé€😀\u0000\u00ff\u0800')],
    ['ArrayBuffer', backing.buffer],
    ['SharedArrayBuffer', new SharedArrayBuffer(20)],
    ['Uint16Array at an offset', new Uint16Array(backing.buffer, 6, 11)],
    ['DataView at an offset', new DataView(backing.buffer, 3, 29)],
    ['Float64Array', new Float64Array([1.5, -0, NaN, 1e300])],
    ['BigUint64Array', new BigUint64Array([1n, 2n ** 64n - 1n])],
    ['Int8Array subarray', new Int8Array(backing.buffer).subarray(5, 42)],
    ['Buffer', Buffer.from('buffer contents')],
    ['number', 123.5],
    ['boolean', true],
    ['bigint', 5n],
    ['object', {}],
    ['array', [1, 'two']],
    ['object with toString', { toString: () => 'custom' }],
    ['String object', new String('boxed')],
    ['undefined', undefined],
    ['null', null],
    ['symbol', Symbol('s')],
  ];
  const seeds = [undefined, 0, 1, 0xdeadbeef, 2 ** 32 + 7, 2n ** 64n - 1n, randomU64()];
  const oddSeeds = [
    -1, -1.5, 1.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 2 ** 64, 2 ** 65, 1e30, -1e30,
    -1e300, 1e300, -(2 ** 70), NaN, Infinity, -Infinity, -0, 2n ** 64n + 5n, -1n, -5n, 2n ** 100n + 3n,
    -(2n ** 64n) - 3n, '5', true, null, {}, new Number(5), Object(5n),
  ];
  // Every seed for the special inputs and a few lengths; the common ones for the other lengths.
  const oddSeedLengths = ['3', '17', '64', '241'].map((length) => `${length} random bytes`);
  for (const [label, data] of inputs) {
    const everySeed = !label.endsWith(' random bytes') || oddSeedLengths.includes(label);
    const seedList = everySeed ? [...seeds, ...oddSeeds] : seeds;
    for (const name of HASH_FUNCTIONS) {
      for (const seed of seedList) {
        const seedLabel = typeof seed === 'bigint' ? `${seed}n` : typeof seed === 'object' && seed ? `${seed.constructor.name}(${seed})` : String(seed);
        compare('Bun.hash', `${name}(${label}, ${seedLabel})`, (api) =>
          seed === undefined ? call(api, name, data) : call(api, name, data, seed),
        );
      }
    }
  }
  for (const name of HASH_FUNCTIONS) {
    compare('Bun.hash', `${name}() without arguments`, (api) => call(api, name));
    compare('Bun.hash', `${name}(Blob)`, (api) => call(api, name, new Blob(['blob contents'])));
  }
}

// ---------------------------------------------------------------------------------------------
// Bun.CryptoHasher

{
  const ALGORITHMS = Bun.CryptoHasher.algorithms;
  const hex = (value) => (isBytes(value) ? Buffer.from(value).toString('hex') : value);
  const name = 'Bun.CryptoHasher';

  compare(name, 'algorithms', (api) => api.CryptoHasher.algorithms);
  compare(name, 'algorithms is a fresh array each read', (api) => api.CryptoHasher.algorithms !== api.CryptoHasher.algorithms);
  compare(name, 'toString tag', (api) => Object.prototype.toString.call(new api.CryptoHasher('md5')));

  const names = [
    ...ALGORITHMS, ...ALGORITHMS.map((algorithm) => algorithm.toUpperCase()),
    'rmd160', 'RMD160', 'sha128', 'sha-1', 'SHA-1', 'sha-224', 'sha-256', 'Sha-384', 'sha-512', 'sha-512/224',
    'sha-512_224', 'sha-512224', 'SHA-512/256', 'sha-512_256', 'sha-512256', 'shake-128', 'SHAKE-256', 'sha512/256',
    'sha512_256', 'sha3_256', 'sha-3-256', 'sha3256', 'blake2b', 'blake2s', 'blake2s-256', 'blake2b-512', 'ripemd',
    'ripemd-160', 'sha', 'md5-sha1', 'rsa-sha256', 'RSA-SHA256', 'keccak256', 'blake3', 'sha256WithRSAEncryption',
    'nope', '', ' sha256', 'sha256 ', 'constructor', '__proto__', 'toString', 'ſha256', 'SHA\u212A', 'ſhake128',
  ];
  for (const algorithm of names) {
    compare(name, `new CryptoHasher(${JSON.stringify(algorithm)}).algorithm`, (api) => new api.CryptoHasher(algorithm).algorithm);
    compare(name, `new CryptoHasher(${JSON.stringify(algorithm)}, key).algorithm`, (api) => new api.CryptoHasher(algorithm, 'key').algorithm);
    compare(name, `CryptoHasher.hash(${JSON.stringify(algorithm)}, "abc", "hex")`, (api) => api.CryptoHasher.hash(algorithm, 'abc', 'hex'));
  }

  const keys = [
    ['no key', undefined],
    ['null key', null],
    ['empty key', ''],
    ['"key"', 'key'],
    ['unicode key', 'clé€😀'],
    ['200-char key', 'k'.repeat(200)],
    ['64-byte key', randomBytes(64)],
    ['129-byte key', randomBytes(129)],
    ['empty bytes key', new Uint8Array(0)],
    ['ArrayBuffer key', randomBytes(20).buffer],
    ['DataView key', new DataView(randomBytes(30).buffer, 4, 20)],
  ];
  const lengths = [0, 1, 3, 55, 56, 63, 64, 65, 111, 112, 119, 127, 128, 129, 135, 136, 137, 143, 167, 168, 169, 200, 1000, 4099];
  for (const algorithm of ALGORITHMS) {
    compare(name, `${algorithm}.byteLength`, (api) => new api.CryptoHasher(algorithm).byteLength);
    for (const [keyLabel, key] of keys) {
      compare(name, `${algorithm} ${keyLabel}: byteLength, algorithm`, (api) => {
        const hasher = new api.CryptoHasher(algorithm, key);
        return [hasher.byteLength, hasher.algorithm];
      });
      for (const length of lengths) {
        const message = randomBytes(length);
        const cut1 = randomInt(length + 1);
        const cut2 = cut1 + randomInt(length - cut1 + 1);
        compare(name, `${algorithm} ${keyLabel}: ${length} bytes in three updates`, (api) =>
          hex(new api.CryptoHasher(algorithm, key)
            .update(message.subarray(0, cut1))
            .update(message.subarray(cut1, cut2))
            .update(message.subarray(cut2))
            .digest()),
        );
      }
      compare(name, `${algorithm} ${keyLabel}: copy() then diverge`, (api) => {
        const hasher = new api.CryptoHasher(algorithm, key).update('shared prefix');
        const twin = hasher.copy();
        twin.update(' and more');
        return [hex(hasher.digest()), hex(twin.digest()), twin instanceof api.CryptoHasher];
      });
      compare(name, `${algorithm} ${keyLabel}: digest twice`, (api) => {
        const hasher = new api.CryptoHasher(algorithm, key).update('abc');
        return [hex(hasher.digest()), hex(hasher.digest())];
      });
      compare(name, `${algorithm} ${keyLabel}: update after digest`, (api) => {
        const hasher = new api.CryptoHasher(algorithm, key).update('abc');
        hasher.digest();
        return hex(hasher.update('def').digest());
      });
      for (const member of ['algorithm', 'byteLength', 'copy']) {
        compare(name, `${algorithm} ${keyLabel}: ${member} after digest`, (api) => {
          const hasher = new api.CryptoHasher(algorithm, key);
          hasher.digest('hex');
          const value = member === 'copy' ? hasher.copy() : hasher[member];
          return member === 'copy' ? hex(value.digest()) : value;
        });
      }
    }
    const message = randomBytes(1000);
    compare(name, `CryptoHasher.hash(${algorithm}, 1000 bytes)`, (api) => api.CryptoHasher.hash(algorithm, message));
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length);
      compare(name, `CryptoHasher.hash(${algorithm}, ${length} bytes, "hex")`, (api) => api.CryptoHasher.hash(algorithm, data, 'hex'));
      compare(name, `${algorithm} HMAC of ${length} bytes`, (api) => new api.CryptoHasher(algorithm, data).update(data).digest('base64'));
    }
    for (const text of ['', 'héllo wörld', '日本語', '😀 emoji', 'lone \ud800 surrogate', 'x'.repeat(300)]) {
      compare(name, `${algorithm} of ${JSON.stringify(text.slice(0, 20))}`, (api) => [
        new api.CryptoHasher(algorithm).update(text).digest('hex'),
        api.CryptoHasher.hash(algorithm, text, 'hex'),
      ]);
    }
    compare(name, `${algorithm} update(Blob)`, (api) => new api.CryptoHasher(algorithm).update(new Blob(['abc'])).digest('hex'));
  }

  // Output encodings: many digests, so that utf8 / utf16le / ascii decoding meets all byte patterns.
  const encodings = [
    'hex', 'base64', 'base64url', 'latin1', 'binary', 'utf8', 'utf-8', 'ucs2', 'ucs-2', 'utf16le', 'utf-16le',
    'ascii', 'buffer', 'HEX', 'Base64', 'UTF8', 'Latin1', 'BUFFER', 'utf16-le', 'UTF16-LE', 'utf-16-le', 'utf-16',
    'utf16', 'latin-1', 'base64-url', 'hex ',
    'nope', '', undefined, null,
  ];
  for (const algorithm of ALGORITHMS) {
    for (const encoding of encodings) {
      compare(name, `${algorithm} digest(${JSON.stringify(encoding)})`, (api) => new api.CryptoHasher(algorithm).update('abc').digest(encoding));
      compare(name, `CryptoHasher.hash(${algorithm}, "abc", ${JSON.stringify(encoding)})`, (api) => api.CryptoHasher.hash(algorithm, 'abc', encoding));
    }
  }
  for (let i = 0; i < 3000; i++) {
    const message = randomBytes(randomInt(40));
    const algorithm = ALGORITHMS[i % ALGORITHMS.length];
    for (const encoding of ['utf8', 'utf16le', 'ascii', 'latin1', 'base64', 'base64url']) {
      compare(name, `${algorithm} digest(${encoding}) of ${Buffer.from(message).toString('hex')}`, (api) =>
        api.CryptoHasher.hash(algorithm, message, encoding),
      );
    }
  }

  // Digests written into caller-provided memory.
  const targets = [
    ['Uint8Array(64)', () => new Uint8Array(64)],
    ['Uint8Array(63)', () => new Uint8Array(63)],
    ['Uint8Array(100)', () => new Uint8Array(100).fill(7)],
    ['Uint32Array(16)', () => new Uint32Array(16)],
    ['ArrayBuffer(64)', () => new ArrayBuffer(64)],
    ['DataView(64)', () => new DataView(new ArrayBuffer(80), 8, 64)],
    ['Uint8Array(16)', () => new Uint8Array(16)],
    ['Uint8Array(20)', () => new Uint8Array(20)],
    ['Uint8Array(32)', () => new Uint8Array(32)],
    ['number', () => 5],
    ['object', () => ({})],
  ];
  const contents = (target) => (isBytes(target) || ArrayBuffer.isView(target) || target instanceof ArrayBuffer
    ? Buffer.from(ArrayBuffer.isView(target) ? new Uint8Array(target.buffer, target.byteOffset, target.byteLength) : target).toString('hex')
    : target);
  for (const algorithm of ALGORITHMS) {
    for (const [targetLabel, makeTarget] of targets) {
      compare(name, `${algorithm} digest(${targetLabel})`, (api) => {
        const target = makeTarget();
        const result = new api.CryptoHasher(algorithm).update('abc').digest(target);
        return [result === target, contents(target)];
      });
      compare(name, `CryptoHasher.hash(${algorithm}, "abc", ${targetLabel})`, (api) => {
        const target = makeTarget();
        const result = api.CryptoHasher.hash(algorithm, 'abc', target);
        return [result === target, contents(target)];
      });
    }
    compare(name, `${algorithm} HMAC digest(Uint8Array(64))`, (api) => {
      const target = new Uint8Array(64);
      new api.CryptoHasher(algorithm, 'key').update('abc').digest(target);
      return contents(target);
    });
  }

  // String input in each encoding.
  const strings = [
    '', 'abc', 'aGk=zz€', 'aGk', 'YQ', 'YR', 'Y Q', '\tYQ\n', 'a-_b', 'a+/b', 'ab=cd', '====', 'abcde', 'abzz', 'zzab',
    '0g12', 'ABCDEF', 'abcdef0123', '12 34', 'a b ', 'abĀc', '€\ud800', '\u0100\u0101\u00ff', randomText(300, 'abcdef0123456789'),
    randomText(301, 'ABCxyz+/-_= \n€'), randomText(200, '\u0000\u007f\u0080\u00ff\u0100\uffff\ud800'),
  ];
  const inputEncodings = [
    'utf8', 'utf-8', 'hex', 'HEX', 'base64', 'BASE64', 'base64url', 'latin1', 'binary', 'ascii', 'ucs2', 'ucs-2',
    'utf16le', 'utf-16le', 'utf16-le', 'buffer', 'nope', '', 5, null, undefined, {},
  ];
  for (const text of strings) {
    for (const encoding of inputEncodings) {
      compare(name, `update(${JSON.stringify(text.slice(0, 20))}, ${JSON.stringify(encoding)})`, (api) =>
        new api.CryptoHasher('sha256').update(text, encoding).digest('hex'),
      );
    }
  }
  compare(name, 'update(bytes, "hex") ignores the encoding', (api) => new api.CryptoHasher('sha1').update(new Uint8Array([1, 2]), 'hex').digest('hex'));
  compare(name, 'update returns this', (api) => {
    const hasher = new api.CryptoHasher('md5');
    return hasher.update('a') === hasher;
  });

  // Bad arguments.
  const badCases = [
    ['new CryptoHasher()', (api) => new api.CryptoHasher()],
    ['new CryptoHasher(5)', (api) => new api.CryptoHasher(5)],
    ['new CryptoHasher(new String("md5"))', (api) => new api.CryptoHasher(new String('md5')).algorithm],
    ['CryptoHasher.hash(new String("md5"), "a")', (api) => api.CryptoHasher.hash(new String('md5'), 'a')],
    ['String objects as input, key and encodings', (api) => [
      new api.CryptoHasher('md5', new String('k')).update(new String('6162'), new String('hex')).digest(new String('base64')),
      api.CryptoHasher.hash('sha1', new String('a'), new String('hex')),
    ]],
    ['SHAKE digest into 1000 bytes', (api) => new api.CryptoHasher('shake256').update('a').digest(new Uint8Array(1000)).join()],
    ['new CryptoHasher("sha256", 5)', (api) => new api.CryptoHasher('sha256', 5)],
    ['new CryptoHasher("sha256", {})', (api) => new api.CryptoHasher('sha256', {})],
    ['new CryptoHasher("nope", 5)', (api) => new api.CryptoHasher('nope', 5)],
    ['new CryptoHasher("", "key")', (api) => new api.CryptoHasher('', 'key')],
    ...[null, undefined, 5, {}, [1, 2], true, 5n].map((input) => [
      `update(${String(input)})`, (api) => new api.CryptoHasher('md5').update(input),
    ]),
    ...[null, undefined, 5, {}].map((input) => [
      `CryptoHasher.hash("sha256", ${String(input)})`, (api) => api.CryptoHasher.hash('sha256', input),
    ]),
    ['CryptoHasher.hash(5, "a")', (api) => api.CryptoHasher.hash(5, 'a')],
    ['CryptoHasher.hash("nope", "a")', (api) => api.CryptoHasher.hash('nope', 'a')],
    ['CryptoHasher.hash("sha256", "a", "hex", "extra")', (api) => api.CryptoHasher.hash('sha256', 'a', 'hex', 'extra')],
    ['CryptoHasher.hash("sha256", "a", undefined, "key")', (api) => api.CryptoHasher.hash('sha256', 'a', undefined, 'key')],
    ['consumed HMAC update', (api) => {
      const hasher = new api.CryptoHasher('sha256', 'k');
      hasher.digest();
      return hasher.update('x');
    }],
    ['consumed HMAC digest', (api) => {
      const hasher = new api.CryptoHasher('sha256', 'k');
      hasher.digest();
      return hasher.digest('hex');
    }],
    ['bad encoding keeps the state', (api) => {
      const hasher = new api.CryptoHasher('sha256').update('abc');
      try {
        hasher.digest('nope');
      } catch {}
      return hasher.digest('hex');
    }],
  ];
  for (const [label, scenario] of badCases) compare(name, label, scenario);
}

// ---------------------------------------------------------------------------------------------
// Bun.password

{
  const name = 'Bun.password';
  const fast = { algorithm: 'argon2id', memoryCost: 8, timeCost: 1 };
  // A hash string without its random salt and digest, for comparing the parts Bun fixes.
  const shape = (value) =>
    typeof value !== 'string' ? value
      : value.startsWith('$2') ? `${value.slice(0, 7)}<${value.length - 7} chars>`
        : value.replace(/\$([^$]*)\$([^$]*)$/, (_, salt, digest) => `$<${salt.length}>$<${digest.length}>`);

  compare(name, 'members', (api) => Object.keys(api.password));

  // Option handling. The successful cases are cheap but for 'argon2d', which means Bun's default
  // costs (64 MiB, two passes).
  const optionCases = [
    'argon2d', 'ARGON2ID', 'Argon2id', '', 'nope', 5, true, [], () => {}, {}, new String('argon2id'),
    { algorithm: 'argon2i', memoryCost: 8, timeCost: 1 }, { algorithm: 'argon2d', memoryCost: 16, timeCost: 2 },
    { algorithm: '' }, { algorithm: undefined }, { algorithm: null }, { algorithm: 0 }, { algorithm: false }, { algorithm: 5 },
    { algorithm: 'nope' }, { algorithm: 'BCRYPT' }, { algorithm: new String('argon2id'), memoryCost: 8, timeCost: 1 },
    { memoryCost: 8 }, { ...fast, memoryCost: 0 }, { ...fast, memoryCost: 7 }, { ...fast, memoryCost: -5 },
    { ...fast, memoryCost: 8.5 }, { ...fast, memoryCost: NaN }, { ...fast, memoryCost: Infinity }, { ...fast, memoryCost: 2 ** 32 },
    { ...fast, memoryCost: '8' }, { ...fast, memoryCost: new Number(8) }, { ...fast, memoryCost: null, timeCost: 0 },
    { ...fast, timeCost: 0 }, { ...fast, timeCost: -1 }, { ...fast, timeCost: NaN }, { ...fast, timeCost: 1.5 },
    { ...fast, timeCost: 2 ** 32 }, { ...fast, timeCost: Infinity }, { ...fast, timeCost: '1' }, { ...fast, memoryCost: 1, timeCost: 0 },
    { ...fast, cost: 99 }, { algorithm: 'bcrypt', cost: 4 }, { algorithm: 'bcrypt', cost: 3 }, { algorithm: 'bcrypt', cost: 32 },
    { algorithm: 'bcrypt', cost: 4.5 }, { algorithm: 'bcrypt', cost: NaN }, { algorithm: 'bcrypt', cost: '5' },
    { algorithm: 'bcrypt', cost: 0 }, { algorithm: 'bcrypt', cost: 4, memoryCost: 1, timeCost: 0 },
  ];
  for (const options of optionCases) {
    const label = typeof options === 'function' ? 'a function' : JSON.stringify(options) ?? String(options);
    compare(name, `hashSync("pw", ${label})`, (api) => shape(api.password.hashSync('pw', options)));
  }
  const passwordArguments = [
    ['undefined', undefined], ['null', null], ['5', 5], ['{}', {}], ['""', ''], ['empty bytes', new Uint8Array(0)],
    ['Blob', new Blob(['pw'])], ['bytes', new Uint8Array([1, 2, 3])], ['ArrayBuffer', new Uint8Array([1]).buffer],
  ];
  for (const [label, value] of passwordArguments) {
    compare(name, `hashSync(${label}, fast)`, (api) => shape(api.password.hashSync(value, fast)));
    compare(name, `hashSync(${label}, "nope")`, (api) => shape(api.password.hashSync(value, 'nope')));
    await compareAsync(name, `hash(${label}, fast)`, (api) => api.password.hash(value, fast).then(shape));
  }
  await compareAsync(name, 'hash() without arguments', (api) => api.password.hash());

  // Hashes made by one verify under the other, in both directions.
  const passwords = [
    'pw', 'correct horse battery staple', 'ünïcödé 😀', 'x'.repeat(71), 'x'.repeat(72), 'x'.repeat(73), 'y'.repeat(200),
    new Uint8Array([0, 1, 0, 255]), new Uint16Array([0x7770, 0]),
  ];
  const wrong = (password) => (typeof password === 'string' ? `${password}!` : new Uint8Array([9]));
  const configurations = [
    { algorithm: 'argon2id', memoryCost: 8, timeCost: 1 }, { algorithm: 'argon2i', memoryCost: 16, timeCost: 2 },
    { algorithm: 'argon2d', memoryCost: 64, timeCost: 1 }, { algorithm: 'argon2id', memoryCost: 100, timeCost: 3 },
    { algorithm: 'bcrypt', cost: 4 }, { algorithm: 'bcrypt', cost: 5 },
  ];
  const crossCheck = (label, makeHash, verify) => {
    const stats = section(name);
    const outcome = run(() => {
      const hash = makeHash();
      return [verify(hash, true), verify(hash, false), shape(hash)];
    });
    const ok = 'value' in outcome && outcome.value[0] === true && outcome.value[1] === false;
    if (ok) stats.equal++;
    else {
      stats.different++;
      differences.push(`${name}: ${label}\n    got: ${show(outcome)}`);
    }
    return ok && outcome.value[2];
  };
  for (const options of configurations) {
    for (const password of passwords) {
      const label = `${JSON.stringify(options)} ${typeof password === 'string' ? password.slice(0, 12) : 'bytes'}`;
      const ourShape = crossCheck(`utils.js hashSync, bun verifySync: ${label}`, () => utils.password.hashSync(password, options),
        (hash, right) => Bun.password.verifySync(right ? password : wrong(password), hash));
      const bunShape = crossCheck(`bun hashSync, utils.js verifySync: ${label}`, () => Bun.password.hashSync(password, options),
        (hash, right) => utils.password.verifySync(right ? password : wrong(password), hash));
      record(name, `hash format ${label}`, { value: ourShape }, { value: bunShape });
    }
  }
  // Bcrypt reads at most 72 bytes, so Bun hashes longer passwords first: check the boundary.
  for (const length of [70, 71, 72, 73, 74, 100]) {
    const base = 'a'.repeat(length - 1);
    const hash = Bun.password.hashSync(`${base}X`, { algorithm: 'bcrypt', cost: 4 });
    compare(name, `bcrypt ${length}-byte password differing in its last byte`, (api) => api.password.verifySync(`${base}Y`, hash));
  }
  // Bun's defaults, once each way (argon2id m=65536 t=2, then bcrypt cost 10). Argon2 at that
  // cost is refused by utils.js (minutes without a JIT), hashing and verifying alike.
  const attempt = async (run) => {
    try {
      return { value: await run() };
    } catch (error) {
      return { error };
    }
  };
  for (const options of [undefined, 'bcrypt']) {
    const theirs = await Bun.password.hash('default pw', options);
    const label = `default ${options ?? 'argon2id'}`;
    const attempted = await attempt(() => utils.password.hash('default pw', options));
    if ('error' in attempted) {
      record(name, `${label} hash`, attempted, { value: shape(theirs) });
      record(name, `${label}: utils.js verifies bun`, await attempt(() => utils.password.verify('default pw', theirs)), { value: true });
      continue;
    }
    const ours = attempted.value;
    record(name, `${label} format`, { value: shape(ours) }, { value: shape(theirs) });
    record(name, `default ${options ?? 'argon2id'}: bun verifies utils.js`, { value: await Bun.password.verify('default pw', ours) }, { value: true });
    record(name, `default ${options ?? 'argon2id'}: utils.js verifies bun`, { value: await utils.password.verify('default pw', theirs) }, { value: true });
  }

  // Malformed and foreign hash strings, with and without an algorithm argument.
  const argon = Bun.password.hashSync('pw', fast);
  const bcrypt = Bun.password.hashSync('pw', { algorithm: 'bcrypt', cost: 4 });
  const [, , , , argonSalt, argonDigest] = argon.split('$');
  const replaceField = (index, value) => argon.split('$').map((field, i) => (i === index ? value : field)).join('$');
  const flipLowBits = (text, index) => {
    const alphabet = text.startsWith('$2') ? './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
      : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const value = alphabet.indexOf(text[index]);
    return text.slice(0, index) + alphabet[value ^ 1] + text.slice(index + 1);
  };
  const stdBase64 = (bytes) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');
  const bcryptBase64ToStd = (text) => {
    const bcryptAlphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const stdAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    return [...text].map((char) => stdAlphabet[bcryptAlphabet.indexOf(char)]).join('');
  };
  const hashes = [
    ['argon2id', argon], ['argon2i label', argon.replace('argon2id', 'argon2i')], ['argon2d label', argon.replace('argon2id', 'argon2d')],
    ['bcrypt', bcrypt], ['$2a$', bcrypt.replace('$2b$', '$2a$')], ['$2y$', bcrypt.replace('$2b$', '$2y$')],
    ['$2x$', bcrypt.replace('$2b$', '$2x$')], ['$2c$', bcrypt.replace('$2b$', '$2c$')], ['$2$', bcrypt.replace('$2b$', '$2$').slice(0, 59)],
    ['bcrypt 59 bytes', bcrypt.slice(0, 59)], ['bcrypt 61 bytes', `${bcrypt}x`], ['bcrypt cost +4', bcrypt.replace('$04$', '$+4$')],
    ['bcrypt cost 03', bcrypt.replace('$04$', '$03$')], ['bcrypt cost 32', bcrypt.replace('$04$', '$32$')],
    ['bcrypt cost -4', bcrypt.replace('$04$', '$-4$')], ['bcrypt cost " 4"', bcrypt.replace('$04$', '$ 4$')],
    ['bcrypt cost 4 (59 bytes)', bcrypt.replace('$04$', '$4$')], ['bcrypt with $ prefix', `$${bcrypt}`],
    ['bcrypt salt padding bits', flipLowBits(bcrypt, 28)], ['bcrypt hash padding bits', flipLowBits(bcrypt, 59)],
    ['bcrypt salt data bit', flipLowBits(bcrypt, 27)], ['bcrypt hash data bit', flipLowBits(bcrypt, 58)],
    ['bcrypt non-ASCII', `$2b$04$${'€'.repeat(53)}`],
    ['bcrypt as PHC', `$bcrypt$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}`],
    ['$bcrypt$ garbage', '$bcrypt$r=4$abc$def'], ['$bcrypt', '$bcrypt'],
    ...[['r=04', '04'], ['r=+4', '+4'], ['r=5', '5'], ['r=3', '3'], ['r=32', '32'], ['r=64', '64']].map(([label, cost]) => [
      `bcrypt as PHC, ${label}`, `$bcrypt$r=${cost}$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}`,
    ]),
    ['bcrypt as PHC, v=1', `$bcrypt$v=1$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}`],
    ['bcrypt as PHC, short salt', `$bcrypt$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 27))}$${bcryptBase64ToStd(bcrypt.slice(29))}`],
    ['bcrypt as PHC, trailing $', `$bcrypt$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}$`],
    ['$bcryptx$ PHC', `$bcryptx$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}`],
    ['$BCRYPT$ PHC', `$BCRYPT$r=4$${bcryptBase64ToStd(bcrypt.slice(7, 29))}$${bcryptBase64ToStd(bcrypt.slice(29))}`],
    ['no version', argon.replace('$v=19', '')], ['v=16', argon.replace('v=19', 'v=16')], ['v=019', argon.replace('v=19', 'v=019')],
    ['v=+19', argon.replace('v=19', 'v=+19')], ['v=', argon.replace('v=19', 'v=')], ['x=19', argon.replace('v=19', 'x=19')],
    ['m=08', argon.replace('m=8', 'm=08')], ['m=+8', argon.replace('m=8', 'm=+8')], ['m=-8', argon.replace('m=8', 'm=-8')],
    ['m=0_8', argon.replace('m=8', 'm=0_8')], ['m= 8', argon.replace('m=8', 'm= 8')], ['m=8=9', argon.replace('m=8', 'm=8=9')],
    ['m=2^32', argon.replace('m=8', 'm=4294967296')], ['t=huge', argon.replace('t=1', 't=99999999999')],
    ['M=8', argon.replace('m=8', 'M=8')], ['params reordered', argon.replace('m=8,t=1', 't=1,m=8')],
    ['extra param', argon.replace('p=1', 'p=1,x=2')], ['keyid', argon.replace('p=1', 'p=1,keyid=abc')],
    ['repeated param', argon.replace('p=1', 'p=1,p=1')], ['missing p', argon.replace(',p=1', '')],
    ['trailing comma', argon.replace('p=1', 'p=1,')], ['no params', argon.replace('m=8,t=1,p=1$', '')],
    ['t=0', argon.replace('t=1', 't=0')], ['p=0', argon.replace('p=1', 'p=0')], ['p=2^24', argon.replace('p=1', 'p=16777216')],
    ['p=2', argon.replace('p=1', 'p=2')], ['m=16,p=2', argon.replace('m=8', 'm=16').replace('p=1', 'p=2')],
    ['m=24,t=2,p=3', argon.replace('m=8,t=1,p=1', 'm=24,t=2,p=3')], ['m=9', argon.replace('m=8', 'm=9')],
    ['short salt', replaceField(4, 'c2FsdA')], ['empty salt', replaceField(4, '')], ['short digest', replaceField(5, 'aGFz')],
    ['empty digest', `${argon.slice(0, argon.lastIndexOf('$'))}$`], ['missing digest', argon.slice(0, argon.lastIndexOf('$'))],
    ['64-byte digest', replaceField(5, 'A'.repeat(86))], ['66-byte digest', replaceField(5, 'A'.repeat(88))],
    ['padded salt', replaceField(4, `${argonSalt}=`)], ['base64url digest', argon.replace(/\+/g, '-').replace(/\//g, '_')],
    ['salt padding bits', replaceField(4, flipLowBits(argonSalt, argonSalt.length - 1))],
    ['digest padding bits', replaceField(5, flipLowBits(argonDigest, argonDigest.length - 1))],
    ['salt of 5n+1 chars', replaceField(4, `${argonSalt}AAAAA`)], ['trailing $', `${argon}$`],
    ['v=19 twice', argon.replace('v=19', 'v=19$v=19')], ['ARGON2ID', argon.replace('argon2id', 'ARGON2ID')],
    ['argon2x', argon.replace('argon2id', 'argon2x')], ['argon2', argon.replace('argon2id', 'argon2')],
    ['$argon2id$', '$argon2id$'], ['$argon2id', '$argon2id'], ['$argon2idx$v=19', '$argon2idx$v=19'], ['$foo$bar', '$foo$bar'],
    ['$', '$'], ['garbage', 'garbage'], ['x$2b$', 'x$2b$'], ['$$2b$...', `$${bcrypt}`.slice(0, 61)], ['empty', ''],
    ['real salt, 16-byte digest', `$argon2id$v=19$m=8,t=1,p=1$${stdBase64(new Uint8Array(16).fill(7))}$${argonDigest.slice(0, 22)}`],
  ];
  for (const [label, hash] of hashes) {
    for (const algorithm of [undefined, 'argon2id', 'argon2i', 'argon2d', 'bcrypt']) {
      compare(name, `verifySync("pw", ${label}, ${algorithm})`, (api) => api.password.verifySync('pw', hash, algorithm));
    }
    await compareAsync(name, `verify("pw", ${label})`, (api) => api.password.verify('pw', hash));
  }
  // A legitimate p > 1 hash, made with Bun's own argon2 through node:crypto.
  const { argon2Sync } = await import('node:crypto');
  for (const [m, t, p] of [[16, 1, 2], [24, 2, 3], [64, 1, 4]]) {
    const salt = randomBytes(16);
    const digest = argon2Sync('argon2id', { message: 'pw', nonce: salt, parallelism: p, tagLength: 32, memory: m, passes: t });
    const hash = `$argon2id$v=19$m=${m},t=${t},p=${p}$${stdBase64(salt)}$${stdBase64(digest)}`;
    compare(name, `verifySync p=${p} hash`, (api) => [api.password.verifySync('pw', hash), api.password.verifySync('px', hash)]);
  }

  const verifyArguments = [
    ['verifySync("x")', (api) => api.password.verifySync('x')],
    ['verifySync(undefined, argon)', (api) => api.password.verifySync(undefined, argon)],
    ['verifySync(5, argon)', (api) => api.password.verifySync(5, argon)],
    ['verifySync({}, argon)', (api) => api.password.verifySync({}, argon)],
    ['verifySync("pw", null)', (api) => api.password.verifySync('pw', null)],
    ['verifySync("pw", 5)', (api) => api.password.verifySync('pw', 5)],
    ['verifySync("", argon)', (api) => api.password.verifySync('', argon)],
    ['verifySync("pw", "")', (api) => api.password.verifySync('pw', '')],
    ['verifySync(bytes, argon bytes)', (api) => api.password.verifySync(new TextEncoder().encode('pw'), new TextEncoder().encode(argon))],
    ['verifySync(ArrayBuffer, argon)', (api) => api.password.verifySync(new TextEncoder().encode('pw').buffer, argon)],
    ['verifySync(Blob, argon)', (api) => api.password.verifySync(new Blob(['pw']), argon)],
    ['verifySync("pw", argon, 5)', (api) => api.password.verifySync('pw', argon, 5)],
    ['verifySync("pw", argon, "nope")', (api) => api.password.verifySync('pw', argon, 'nope')],
    ['verifySync("pw", argon, "ARGON2ID")', (api) => api.password.verifySync('pw', argon, 'ARGON2ID')],
    ['verifySync("pw", argon, null)', (api) => api.password.verifySync('pw', argon, null)],
    ['verifySync(5, "nope", 5)', (api) => api.password.verifySync(5, 'nope', 5)],
    ['verifySync("pw", 5, 5)', (api) => api.password.verifySync('pw', 5, 5)],
    ['verifySync("pw", 5, "nope")', (api) => api.password.verifySync('pw', 5, 'nope')],
    ['verifySync(String objects)', (api) => api.password.verifySync(new String('pw'), new String(argon), new String('argon2id'))],
    ['hashSync(5, 5)', (api) => api.password.hashSync(5, 5)],
    ['hashSync("", "nope")', (api) => api.password.hashSync('', 'nope')],
    ['hashSync(String object, bcrypt)', (api) => api.password.hashSync(new String('pw'), { algorithm: 'bcrypt', cost: 4 }).length],
  ];
  for (const [label, scenario] of verifyArguments) compare(name, label, scenario);
  const asyncVerifyArguments = [
    ['verify("x")', (api) => api.password.verify('x')],
    ['verify(undefined, argon)', (api) => api.password.verify(undefined, argon)],
    ['verify(5, argon)', (api) => api.password.verify(5, argon)],
    ['verify(null, argon)', (api) => api.password.verify(null, argon)],
    ['verify("pw", null)', (api) => api.password.verify('pw', null)],
    ['verify("pw", 5)', (api) => api.password.verify('pw', 5)],
    ['verify("", argon)', (api) => api.password.verify('', argon)],
    ['verify("pw", "")', (api) => api.password.verify('pw', '')],
    ['verify("pw", argon, 5)', (api) => api.password.verify('pw', argon, 5)],
    ['verify("pw", argon, "nope")', (api) => api.password.verify('pw', argon, 'nope')],
  ];
  for (const [label, scenario] of asyncVerifyArguments) await compareAsync(name, label, scenario);
}

// ---------------------------------------------------------------------------------------------
// Bun.deepEquals

{
  const name = 'Bun.deepEquals';
  class Point {
    constructor(x) {
      this.x = x;
    }
  }
  class OtherPoint {
    constructor(x) {
      this.x = x;
    }
  }
  const SameNamePoint = (() => class Point {
    constructor(x) {
      this.x = x;
    }
  })();
  class MyError extends Error {}
  class MyArray extends Array {}
  const symbol = Symbol('s');
  const withSymbol = (object, value) => Object.assign(object, { [symbol]: value });
  const nonEnumerable = (object, key, value) => Object.defineProperty(object, key, { value, enumerable: false });
  const cycle = () => {
    const object = { name: 'a' };
    object.self = object;
    return object;
  };
  const pairCycle = () => {
    const a = { name: 'a' };
    const b = { name: 'b', a };
    a.b = b;
    return a;
  };
  const sparse = (length, entries) => Object.assign(new Array(length), entries);
  const errorWith = (error, properties) => Object.assign(error, properties);
  const map = (...entries) => new Map(entries);
  const typed = (Type, values) => new Type(values);

  const pairs = [
    [1, 1], [1, 2], [1, '1'], [0, -0], [NaN, NaN], [NaN, 0 / 0], [null, undefined], [null, null], [undefined, undefined],
    ['a', 'a'], ['a', 'b'], [true, 1], [1n, 1n], [1n, 1], [symbol, symbol], [Symbol('s'), Symbol('s')],
    [{}, {}], [{ a: 1 }, { a: 1 }], [{ a: 1 }, { a: 2 }], [{ a: 1 }, { b: 1 }], [{ a: 1, b: 2 }, { b: 2, a: 1 }],
    [{ a: undefined }, {}], [{}, { a: undefined }], [{ a: undefined, b: 1 }, { b: 1 }], [{ a: undefined }, { b: undefined }],
    [{ a: undefined }, { a: null }], [{ a: 1 }, { a: 1, b: undefined }], [{ a: { b: { c: [1, 2] } } }, { a: { b: { c: [1, 2] } } }],
    [{ a: { b: { c: [1, 2] } } }, { a: { b: { c: [1, 3] } } }], [{ a: 0 }, { a: -0 }], [{ a: NaN }, { a: NaN }],
    [[], []], [[1, 2], [1, 2]], [[1, 2], [2, 1]], [[1], [1, 2]], [[1], [1, undefined]], [[1, undefined], [1]],
    [sparse(3, { 0: 1 }), [1, undefined, undefined]], [[1, undefined, undefined], sparse(3, { 0: 1 })], [sparse(2, {}), sparse(2, {})],
    [sparse(2, {}), [undefined, undefined]], [sparse(3, { 1: 2 }), sparse(3, { 1: 2 })], [sparse(3, { 1: 2 }), sparse(3, { 2: 2 })],
    [[1, 2], { 0: 1, 1: 2, length: 2 }], [Object.assign([1], { extra: 1 }), [1]], [withSymbol([1], 1), [1]], [[1], withSymbol([1], 1)],
    [withSymbol([1], 1), withSymbol([1], 1)], [withSymbol([1], undefined), [1]], [MyArray.from([1, 2]), [1, 2]],
    [new Point(1), new Point(1)], [new Point(1), { x: 1 }], [new Point(1), new OtherPoint(1)], [new Point(1), new SameNamePoint(1)],
    [Object.create(null), {}], [Object.assign(Object.create(null), { a: 1 }), { a: 1 }], [Object.create({ inherited: 1 }), {}],
    [nonEnumerable({}, 'a', 1), {}], [{ a: 1 }, nonEnumerable({}, 'a', 1)], [nonEnumerable({}, 'a', 1), { a: 1 }],
    [withSymbol({}, 1), withSymbol({}, 1)], [withSymbol({}, 1), withSymbol({}, 2)], [withSymbol({}, 1), {}], [withSymbol({}, undefined), {}],
    [{ get a() { return 1; } }, { a: 1 }], [cycle(), cycle()], [pairCycle(), pairCycle()], [cycle(), { name: 'a', self: {} }],
    [new Date(0), new Date(0)], [new Date(0), new Date(1)], [new Date(NaN), new Date(NaN)], [new Date(0), 0], [new Date(0), {}],
    [Object.assign(new Date(0), { a: 1 }), new Date(0)], [/a/g, /a/g], [/a/g, /a/i], [/a/, /b/], [Object.assign(/a/, { lastIndex: 3 }), /a/],
    [/a/, {}], [new Map(), new Map()], [map([1, 2]), map([1, 2])], [map([1, 2]), map([1, 3])], [map([1, 2]), map([2, 2])],
    [map([{ k: 1 }, 'v']), map([{ k: 1 }, 'v'])], [map([{ k: 1 }, 'v']), map([{ k: 2 }, 'v'])], [map([1, undefined]), map([1, undefined])],
    [map([1, undefined]), map([2, undefined])], [map([1, { a: 1 }]), map([1, { a: 1 }])], [map([NaN, 1]), map([NaN, 1])],
    [map([0, 1]), map([-0, 1])], [map([1, 2]), {}], [new Set([1, 2]), new Set([2, 1])], [new Set([1]), new Set([2])],
    [new Set([{ a: 1 }]), new Set([{ a: 1 }])], [new Set([{ a: 1 }, { a: 1 }]), new Set([{ a: 1 }, { a: 2 }])],
    [new Set([[1]]), new Set([[2]])], [new Set(), []], [Object.assign(new Map(), { a: 1 }), new Map()],
    [typed(Uint8Array, [1, 2]), typed(Uint8Array, [1, 2])], [typed(Uint8Array, [1, 2]), typed(Uint8Array, [1, 3])],
    [typed(Uint8Array, [1, 2]), typed(Int8Array, [1, 2])], [typed(Uint8Array, [1, 2]), [1, 2]], [typed(Uint8Array, []), typed(Uint8Array, [])],
    [typed(Float64Array, [0]), typed(Float64Array, [-0])], [typed(Float64Array, [NaN]), typed(Float64Array, [NaN])],
    [typed(Float32Array, [1.5]), typed(Float32Array, [1.5])], [typed(Uint16Array, [1]), typed(Uint8Array, [1, 0])],
    [Buffer.from('ab'), typed(Uint8Array, [97, 98])], [Buffer.from('ab'), Buffer.from('ab')],
    [Object.assign(typed(Uint8Array, [1]), { extra: 1 }), typed(Uint8Array, [1])], [typed(BigInt64Array, [1n]), typed(BigInt64Array, [1n])],
    [new Uint8Array([1, 2]).buffer, new Uint8Array([1, 2]).buffer], [new Uint8Array([1, 2]).buffer, new Uint8Array([1, 3]).buffer],
    [new ArrayBuffer(2), new SharedArrayBuffer(2)], [new ArrayBuffer(2), new Uint8Array(2)],
    [new DataView(new Uint8Array([1]).buffer), new DataView(new Uint8Array([2]).buffer)], [new DataView(new ArrayBuffer(1)), {}],
    [new Error('x'), new Error('x')], [new Error('x'), new Error('y')], [new Error('x'), new TypeError('x')],
    [new MyError('x'), new Error('x')], [errorWith(new Error('x'), { name: 'Custom' }), new Error('x')],
    [errorWith(new Error('x'), { code: 1 }), new Error('x')], [errorWith(new Error('x'), { code: 1 }), errorWith(new Error('x'), { code: 1 })],
    [errorWith(new Error('x'), { code: undefined }), new Error('x')], [new Error('x', { cause: 1 }), new Error('x', { cause: 1 })],
    [new Error('x', { cause: 1 }), new Error('x', { cause: 2 })], [new Error('x', { cause: undefined }), new Error('x')],
    [new Error('x'), { message: 'x' }], [new AggregateError([], 'x'), new AggregateError([], 'x')],
    [new Number(1), new Number(1)], [new Number(1), new Number(2)], [new Number(1), 1], [new Number(NaN), new Number(NaN)],
    [new Number(0), new Number(-0)], [new String('a'), new String('a')], [new String('a'), new String('b')], [new String('a'), 'a'],
    [Object.assign(new String('a'), { x: 1 }), new String('a')], [new Boolean(true), new Boolean(true)], [new Boolean(true), new Number(1)],
    [Object(symbol), Object(symbol)], [Object(Symbol('a')), Object(Symbol('a'))], [Object(1n), Object(1n)], [Object(1n), Object(2n)],
    [Object.assign(new Number(1), { a: 1 }), new Number(1)], [() => {}, () => {}], [Math.max, Math.max], [Promise.resolve(1), Promise.resolve(1)],
    [new WeakMap(), new WeakMap()], [new URL('https://a.example/'), new URL('https://a.example/')],
    [new URL('https://a.example/'), new URL('https://b.example/')], [new URL('https://a.example/'), {}],
    [new URLSearchParams('a=1&b=2'), new URLSearchParams('a=1&b=2')], [new URLSearchParams('a=1'), new URLSearchParams('a=2')],
    [new Headers({ a: '1' }), new Headers({ a: '1' })], [new Headers({ a: '1' }), new Headers({ a: '2' })],
    [{ d: new Date(5), m: map(['k', [1, { z: new Set([1]) }]]) }, { d: new Date(5), m: map(['k', [1, { z: new Set([1]) }]]) }],
    [{ d: new Date(5), m: map(['k', [1, { z: new Set([1]) }]]) }, { d: new Date(5), m: map(['k', [1, { z: new Set([2]) }]]) }],
    [{ 0: 'a', 1: 'b' }, { 0: 'a', 1: 'b' }], [{ 0: 'a' }, { 0: 'b' }], [{ 0: 'a' }, ['a']], [{ 1: undefined }, {}],
    [Object.create({ inherited: 1 }, { own: { value: 2, enumerable: true } }), { own: 2 }],
    [Object.create({ inherited: 1 }), Object.create({ inherited: 2 })], [Object.create(Point.prototype), new Point(undefined)],
    [new (class {})(), {}], [new (class {})(), new (class {})()], [new (class Named {})(), new (class Named {})()],
    [{ get a() { return 1; } }, { get a() { return 2; } }], [{ set a(v) {} }, {}], [{ a: () => 1 }, { a: () => 1 }],
    [(function () { return arguments; })(1, 2), [1, 2]], [(function () { return arguments; })(1, 2), (function () { return arguments; })(1, 2)],
    [Object.setPrototypeOf([1], null), [1]], [Object.defineProperty([1, 2], 0, { get: () => 1, enumerable: true }), [1, 2]],
    [[{ a: undefined }], [{}]], [[[sparse(2, {})]], [[[undefined, undefined]]]], [[NaN], [NaN]], [[0], [-0]],
    [new Uint8Array([1, 2, 3]).subarray(1), new Uint8Array([9, 2, 3]).subarray(1)], [new Uint8Array(new ArrayBuffer(8), 2, 2), new Uint8Array(2)],
    [typed(Float32Array, [NaN]), typed(Float32Array, [NaN])], [typed(Float64Array, [0, NaN]), typed(Float64Array, [-0, NaN])],
    [map([{ a: 1 }, 1], [{ a: 1 }, 2]), map([{ a: 1 }, 2], [{ a: 1 }, 1])], [map(['a', undefined]), map(['b', undefined])],
    [map([{ k: 1 }, undefined]), map([{ k: 1 }, undefined])], [map([1, map([2, 3])]), map([1, map([2, 3])])],
    [new Set([NaN]), new Set([NaN])], [new Set([0]), new Set([-0])], [new Set([{ a: undefined }]), new Set([{}])],
    [Object.assign(new Set([1]), { extra: 1 }), new Set([1])], [new (class extends Map {})(), new Map()],
    [new (class extends Date {})(0), new Date(0)], [new (class extends Set {})([1]), new Set([1])],
    [errorWith(new Error('x'), { stack: 'a' }), errorWith(new Error('x'), { stack: 'b' })],
    [Object.defineProperty(new Error('x'), 'stack', { value: 'a', enumerable: true }), new Error('x')],
    [errorWith(new TypeError('x'), { name: 'Error' }), new Error('x')], [new RangeError('x'), new RangeError('x')],
    [new Error('x', { cause: { a: 1 } }), new Error('x', { cause: { a: 1 } })], [new Error('x', { cause: { a: undefined } }), new Error('x', { cause: {} })],
    [errorWith(new Error('x'), { [symbol]: 1 }), new Error('x')], [errorWith(new Error('x'), { a: undefined }), new Error('x')],
    [new Error(''), new Error()], [errorWith(new Error('x'), { message: 'y' }), new Error('y')],
    [errorWith(new Error('x'), { message: 5 }), errorWith(new Error('x'), { message: '5' })],
    [Object.assign(new Error(''), { name: 'Error' }), new Error('')], [new (class E extends Error {})('x'), new Error('x')],
    [(() => { const error = new Error('x'); delete error.message; return error; })(), (() => { const error = new Error('y'); delete error.message; return error; })()],
    [withSymbol({}, undefined), withSymbol({}, undefined)], [nonEnumerable({ b: 1 }, symbol, 1), { b: 1 }],
    [{ a: [1, { b: new Map([[1, new Set([new Date(1)])]]) }] }, { a: [1, { b: new Map([[1, new Set([new Date(1)])]]) }] }],
    [{ a: [1, { b: new Map([[1, new Set([new Date(1)])]]) }] }, { a: [1, { b: new Map([[1, new Set([new Date(2)])]]) }] }],
    [Object.assign(Object.create(null), { a: undefined }), {}], [new Point(undefined), {}], [new Point(undefined), new Point()],
    [[undefined], []], [[], [undefined]], [sparse(1, {}), []], [[], sparse(1, {})], [[1, 2, 3], [1, 2]],
    [new String('ab'), new String('ab')], [new String(''), new String('')], [Object.assign(new String('a'), { [symbol]: 1 }), new String('a')],
    [Object(Symbol.iterator), Object(Symbol.iterator)], [new Boolean(false), new Boolean(true)], [Object(0n), Object(-0n)],
    [new (class {})(), new Point(1)], [Object.defineProperty([1, 2], 0, { get: () => 1 }), Object.defineProperty([1, 2], 0, { get: () => 1 })],
    [{ constructor: 'not a function' }, {}], [{ constructor: Point, x: 1 }, new Point(1)],
  ];
  const describeValue = (value) => (value instanceof Error
    ? `${value.constructor.name}(${JSON.stringify(value.message)})`
    : Bun.inspect(value, { depth: 2 }).replace(/\s+/g, ' ').slice(0, 80));
  for (const [index, [a, b]] of pairs.entries()) {
    const label = `#${index} ${describeValue(a)} vs ${describeValue(b)}`;
    for (const strict of [false, true]) {
      compare(name, `${label}, strict ${strict}`, (api) => api.deepEquals(a, b, strict));
      compare(name, `${label} (swapped), strict ${strict}`, (api) => api.deepEquals(b, a, strict));
    }
  }
  compare(name, 'one argument', (api) => api.deepEquals(1));
  compare(name, 'no arguments', (api) => api.deepEquals());
}

// ---------------------------------------------------------------------------------------------
// Bun.escapeHTML

{
  const name = 'Bun.escapeHTML';
  compare(name, 'every UTF-16 code unit', (api) => api.escapeHTML(String.fromCharCode(...Array.from({ length: 0x10000 }, (_, i) => i))));
  for (let i = 0; i < 200; i++) {
    const text = randomText(randomInt(80), '<>&"\'`=/ aé€😀\u0000\ud800');
    compare(name, JSON.stringify(text), (api) => api.escapeHTML(text));
  }
  const values = [undefined, null, 123, -0, NaN, true, 5n, {}, [1, '<'], { toString: () => '<a>' }, new String('<b>'), Symbol('x')];
  for (const value of values) compare(name, `escapeHTML(${typeof value === 'symbol' ? 'Symbol' : Bun.inspect(value)})`, (api) => api.escapeHTML(value));
  compare(name, 'escapeHTML()', (api) => api.escapeHTML());
}

// ---------------------------------------------------------------------------------------------

for (const [name, { equal, different, refused }] of sections) {
  console.log(`${name.padEnd(17)} ${String(equal).padStart(6)} equal  ${String(different).padStart(4)} different  ${String(refused).padStart(4)} refused`);
}
if (refusals.size) console.log('\nRefused by design (utils.js throws instead of answering):');
for (const [message, { count, example }] of refusals) console.log(`  ${count} x "${message}"\n    e.g. ${example}`);
if (differences.length) {
  console.log(`\n${differences.length} difference(s):`);
  for (const difference of differences.slice(0, 60)) console.log(difference);
  process.exit(1);
}
