// warp's Bun runtime: the `Bun` global (and the `bun` module, which
// warp-bun.mjs points at it) inside a component. Bundled by warp-bun.mjs
// as a script placed after prelude.js and before the app; it only defines
// things at load, so ComponentizeJS's pre-initialization may run it.
//
// What Bun users rely on maps onto the component: `Bun.serve` and
// `export default { fetch }` become the request handler (with `routes` and
// `error`), `Bun.env` is the deployment's environment (prelude.js),
// `Bun.file` reads embedded files, the filesystem shim's virtual files and
// preopened directories. What cannot work was refused at pack time in the
// app's own files; a dependency that reaches it gets a thrown Error here.

// The utilities (`Bun.hash`, …: bun/utils.js) and the global `Buffer` are
// bundled only when the app's files use them (bun/utilities.js,
// bun/buffer.js): together they add ~1.3 MB to a component.

const VERSION = __WARP_BUN_VERSION__;
const FILESYSTEM_SHIM = 'warpgrid:shim/filesystem@0.1.0';
const PREOPENS = 'wasi:filesystem/preopens@0.2.10';

const imports = () => globalThis.__warp_imports ?? {};

function unavailable(name, why) {
  return () => {
    throw new Error(`Bun.${name} is not available in a warp component: ${why}`);
  };
}

function coded(message, code) {
  const error = new Error(message);
  error.code = code;
  return error;
}

// ---------------------------------------------------------------- files

/// The working directory is `/`, the project's root (as `bun run` from it).
function normalize(path) {
  const text = path instanceof URL ? path.pathname : String(path);
  const parts = [];
  for (const part of text.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const decoded = new Map();

function embedded(path) {
  const base64 = globalThis.__warp_embedded?.[path];
  if (base64 === undefined) return null;
  let bytes = decoded.get(path);
  if (!bytes) {
    const binary = atob(base64);
    bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    decoded.set(path, bytes);
  }
  return bytes;
}

function virtual(path) {
  const shim = imports()[FILESYSTEM_SHIM];
  if (!shim) return null;
  const contents = shim.readVirtual(path);
  if (contents === undefined || contents === null) return null;
  return contents instanceof Uint8Array ? contents : Uint8Array.from(contents);
}

/// The preopened directory `path` is in, and the path inside it.
function preopen(path) {
  const preopens = imports()[PREOPENS];
  if (!preopens) return null;
  for (const [descriptor, guest] of preopens.getDirectories()) {
    const root = guest.replace(/\/+$/, '');
    if (path === root || path.startsWith(`${root}/`)) {
      return { descriptor, inner: path.slice(root.length + 1) || '.' };
    }
  }
  return null;
}

function errorCode(error) {
  const payload = error?.payload ?? error;
  return typeof payload === 'string' ? payload : 'io';
}

function readPreopened(path) {
  const found = preopen(path);
  if (!found) return null;
  let file;
  try {
    file = found.descriptor.openAt({ symlinkFollow: true }, found.inner, {}, { read: true });
  } catch (error) {
    if (errorCode(error) === 'no-entry') return null;
    throw coded(`${errorCode(error)}: cannot open '${path}'`, 'EIO');
  }
  const chunks = [];
  let offset = 0n;
  for (;;) {
    const [chunk, end] = file.read(65536n, offset);
    if (chunk.length > 0) chunks.push(chunk);
    offset += BigInt(chunk.length);
    if (end || chunk.length === 0) break;
  }
  const bytes = new Uint8Array(Number(offset));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

function writePreopened(path, bytes) {
  const found = preopen(path);
  if (!found) {
    throw coded(
      `Bun.write: '${path}' is not in a directory warp.toml preopens read-write ([dirs] "/data" = { path = "data", mode = "rw" })`,
      'EACCES',
    );
  }
  try {
    const file = found.descriptor.openAt({ symlinkFollow: true }, found.inner, { create: true, truncate: true }, { write: true });
    let offset = 0;
    while (offset < bytes.length) offset += Number(file.write(bytes.subarray(offset), BigInt(offset)));
    return bytes.length;
  } catch (error) {
    const code = errorCode(error);
    const readOnly = code === 'read-only' || code === 'not-permitted' || code === 'access';
    throw coded(
      `Bun.write: cannot write '${path}' (${code})${readOnly ? ': its directory is preopened read-only; set mode = "rw" on its [dirs] entry' : ''}`,
      readOnly ? 'EACCES' : 'EIO',
    );
  }
}

/// The bytes at `path`: embedded, virtual, then preopened; `null` if none.
function readBytes(path) {
  return embedded(path) ?? virtual(path) ?? readPreopened(path);
}

const MIME = {
  html: 'text/html;charset=utf-8',
  htm: 'text/html;charset=utf-8',
  css: 'text/css;charset=utf-8',
  js: 'text/javascript;charset=utf-8',
  mjs: 'text/javascript;charset=utf-8',
  json: 'application/json;charset=utf-8',
  txt: 'text/plain;charset=utf-8',
  md: 'text/markdown;charset=utf-8',
  csv: 'text/csv;charset=utf-8',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/vnd.microsoft.icon',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  woff2: 'font/woff2',
};

function mimeOf(path) {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return MIME[ext] ?? 'application/octet-stream';
}

/// `Bun.file(path)`: a lazy reference; reading a missing file rejects with ENOENT.
class BunFile {
  #path;
  constructor(path, options) {
    this.name = String(path instanceof URL ? path.pathname : path);
    this.#path = normalize(path);
    this.type = options?.type ?? mimeOf(this.#path);
  }
  bytesSync() {
    const bytes = readBytes(this.#path);
    if (!bytes) throw coded(`ENOENT: no such file or directory, open '${this.name}'`, 'ENOENT');
    return bytes;
  }
  get size() {
    return readBytes(this.#path)?.length ?? 0;
  }
  get lastModified() {
    return 0;
  }
  async exists() {
    return readBytes(this.#path) !== null;
  }
  async bytes() {
    return this.bytesSync().slice();
  }
  async arrayBuffer() {
    return this.bytesSync().slice().buffer;
  }
  async text() {
    return new TextDecoder().decode(this.bytesSync());
  }
  async json() {
    return JSON.parse(await this.text());
  }
  stream() {
    const file = this;
    return new ReadableStream({
      start(controller) {
        controller.enqueue(file.bytesSync());
        controller.close();
      },
    });
  }
  slice(begin, end, type) {
    return new Blob([this.bytesSync().slice(begin, end)], { type: type ?? this.type });
  }
  async write(data) {
    return write(this, data);
  }
  writer() {
    throw new Error('Bun.file().writer() is not available in a warp component: write whole files with Bun.write');
  }
  get path() {
    return this.#path;
  }
}

const stdout = Object.freeze({ name: '/dev/stdout', console: 'log' });
const stderr = Object.freeze({ name: '/dev/stderr', console: 'error' });

async function toBytes(data) {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof BunFile) return data.bytesSync();
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data?.arrayBuffer === 'function') return new Uint8Array(await data.arrayBuffer());
  return new TextEncoder().encode(String(data));
}

/// `Bun.write(destination, data)`: into a read-write preopened directory
/// (or standard output/error); resolves to the bytes written.
async function write(destination, data) {
  const bytes = await toBytes(data);
  if (destination === stdout || destination === stderr) {
    console[destination.console](new TextDecoder().decode(bytes).replace(/\n$/, ''));
    return bytes.length;
  }
  const path = destination instanceof BunFile ? destination.path : normalize(destination);
  return writePreopened(path, bytes);
}

// The body of `new Response(Bun.file(…))` is the file, typed by its name
// (as in Bun, a missing file answers 404).
const NativeResponse = globalThis.Response; // prelude.js's, over the engine's
class Response extends NativeResponse {
  constructor(body, init) {
    if (!(body instanceof BunFile)) {
      super(body, init);
      return;
    }
    const bytes = readBytes(body.path);
    if (!bytes) {
      super(null, { ...init, status: 404 });
      return;
    }
    const headers = new Headers(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', body.type);
    super(bytes, { ...init, headers });
  }
  static [Symbol.hasInstance](value) {
    return value instanceof NativeResponse;
  }
}
globalThis.Response = Response;

// ---------------------------------------------------------------- serve

/// The options of the app's `Bun.serve`, once its top level called it.
let served = null;

/// `routes`: `{ "/users/:id": handler | Response | { GET, POST, … } }`,
/// matched as Bun does: exact paths, then `:params`, then `*` wildcards.
function compileRoutes(routes) {
  if (!routes || typeof routes !== 'object' || Array.isArray(routes)) return [];
  const compiled = [];
  for (const [path, value] of Object.entries(routes)) {
    if (!path.startsWith('/')) throw new TypeError(`Bun.serve: route \`${path}\` must start with "/"`);
    const segments = path.split('/').slice(1);
    const params = segments.filter((s) => s.startsWith(':')).length;
    const wildcard = segments.at(-1) === '*';
    compiled.push({ segments, value, rank: wildcard ? 2 : params > 0 ? 1 : 0, length: segments.length });
  }
  return compiled.sort((a, b) => a.rank - b.rank || b.length - a.length);
}

function matchRoute(routes, pathname) {
  const parts = pathname.split('/').slice(1);
  for (const route of routes) {
    const params = {};
    let ok = true;
    for (let i = 0; i < route.segments.length; i++) {
      const segment = route.segments[i];
      if (segment === '*' && i === route.segments.length - 1) break;
      if (i >= parts.length) {
        ok = false;
        break;
      }
      if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(parts[i]);
      else if (segment !== parts[i]) {
        ok = false;
        break;
      }
      if (i === route.segments.length - 1 && parts.length !== route.segments.length) ok = false;
    }
    if (ok && route.segments.at(-1) === '*' && parts.length < route.segments.length - 1) ok = false;
    if (ok) return { route, params };
  }
  return null;
}

function serverFor(options) {
  const port = Number(options.port ?? 3000);
  const hostname = options.hostname ?? 'localhost';
  const server = {
    port,
    hostname,
    url: new URL(`http://${hostname}:${port}/`),
    development: false,
    id: options.id ?? '',
    pendingRequests: 0,
    pendingWebSockets: 0,
    fetch: (input, init) => dispatch(options, input instanceof Request ? input : new Request(input, init)),
    reload(next) {
      Object.assign(options, next);
      options.compiledRoutes = compileRoutes(options.routes ?? options.static);
      return server;
    },
    async stop() {},
    upgrade: () => false,
    publish: () => 0,
    subscriberCount: () => 0,
    requestIP: () => null,
    timeout() {},
    ref() {},
    unref() {},
  };
  return server;
}

function checkOptions(options, where) {
  if (!options || (typeof options.fetch !== 'function' && !options.routes && !options.static)) {
    throw new TypeError(`${where} expects a \`fetch\` function or \`routes\``);
  }
  options.compiledRoutes = compileRoutes(options.routes ?? options.static);
  options.server ??= serverFor(options);
  return options;
}

/// `Bun.serve(options)`: the component's handler; `port` and `hostname`
/// are `warp run`'s to choose.
function serve(options) {
  if (served) {
    console.error('warp: Bun.serve was called again; a component serves one handler, the first one');
    return served.server;
  }
  served = checkOptions(options, 'Bun.serve');
  return served.server;
}

async function dispatch(options, request) {
  const server = options.server;
  try {
    const found = matchRoute(options.compiledRoutes, new URL(request.url).pathname);
    let handler = found?.route.value;
    if (handler && typeof handler === 'object' && !(handler instanceof NativeResponse)) {
      handler = handler[request.method] ?? (request.method === 'HEAD' ? handler.GET : undefined);
    }
    // A Response in `routes` is served again and again: a clone each time (prelude.js).
    if (handler instanceof NativeResponse) return handler.clone();
    if (typeof handler === 'function') {
      request.params = found.params;
      return checked(await handler(request, server));
    }
    if (typeof options.fetch !== 'function') return new NativeResponse('Not Found', { status: 404 });
    return checked(await options.fetch.call(server, request, server));
  } catch (error) {
    if (typeof options.error !== 'function') throw error;
    return checked(await options.error.call(server, error));
  }
}

function checked(response) {
  if (response instanceof NativeResponse) return response;
  throw new TypeError(`the handler returned ${response === undefined ? 'undefined' : typeof response}, not a Response`);
}

/// The options made of the app's default export, once (one app per instance).
let exportedOptions = null;

/// prelude.js's hook: `Bun.serve`'s options, else a default export that
/// Bun would serve (`export default { fetch }`, a hono app).
globalThis.__warp_respond = (request, exports) => {
  let options = served ?? exportedOptions;
  if (!options) {
    const exported = exports?.default;
    if (exported && (typeof exported.fetch === 'function' || exported.routes)) {
      options = exportedOptions = checkOptions(
        {
          fetch: typeof exported.fetch === 'function' ? exported.fetch.bind(exported) : undefined,
          routes: exported.routes,
          error: typeof exported.error === 'function' ? exported.error.bind(exported) : undefined,
          port: exported.port,
          hostname: exported.hostname,
        },
        'export default',
      );
    }
  }
  if (!options) {
    throw new Error('the app has no handler: call Bun.serve({ fetch(request) { … } }), or export default { fetch }');
  }
  return dispatch(options, request);
};

// ---------------------------------------------------------------- the rest

function sleep(ms) {
  const delay = ms instanceof Date ? ms.getTime() - Date.now() : Number(ms);
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
}

function sleepSync(ms) {
  const until = performance.now() + Number(ms);
  while (performance.now() < until) {}
}

function randomUUIDv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let time = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function inspect(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

async function readableStreamToBytes(stream) {
  return new Uint8Array(await new NativeResponse(stream).arrayBuffer());
}

function fileURLToPath(url) {
  const parsed = url instanceof URL ? url : new URL(url);
  if (parsed.protocol !== 'file:') throw new TypeError(`not a file: URL: ${parsed}`);
  return decodeURIComponent(parsed.pathname);
}

/// A utility warp left out because no file of the bundle names it (see
/// warp-bun.mjs `USES`): reached some other way, it says so.
function leftOut(name) {
  // A function, not an arrow: `new Bun.CryptoHasher()` must reach the throw.
  return function () {
    throw new Error(
      `Bun.${name} was left out of this component: warp found no \`Bun.${name}\` in the app's files when packing; write it as Bun.${name}`,
    );
  };
}

const NO_PROCESSES = 'a component cannot start processes';
const NO_SOCKETS = 'a component opens no sockets of its own (reach databases through @warpgrid/sdk)';

globalThis.Bun = {
  version: VERSION,
  revision: `warp-${VERSION}`,
  get env() {
    return globalThis.process.env;
  },
  main: '/',
  argv: ['bun', '/'],
  serve,
  file: (path, options) => new BunFile(path, options),
  write,
  stdout,
  stderr,
  sleep,
  sleepSync,
  // Since the instance started (`performance.now()`'s origin; it may not be read at pre-initialization).
  nanoseconds: () => Math.round(performance.now() * 1e6),
  hash: leftOut('hash'),
  CryptoHasher: leftOut('CryptoHasher'),
  password: leftOut('password'),
  deepEquals: leftOut('deepEquals'),
  escapeHTML: leftOut('escapeHTML'),
  inspect,
  randomUUIDv7,
  isMainThread: true,
  fileURLToPath,
  pathToFileURL: (path) => new URL(`file://${normalize(path)}`),
  readableStreamToBytes,
  readableStreamToArrayBuffer: async (stream) => (await readableStreamToBytes(stream)).buffer,
  readableStreamToText: (stream) => new NativeResponse(stream).text(),
  readableStreamToJSON: (stream) => new NativeResponse(stream).json(),
  gc() {},
  which: () => null,
  spawn: unavailable('spawn', NO_PROCESSES),
  spawnSync: unavailable('spawnSync', NO_PROCESSES),
  $: unavailable('$', NO_PROCESSES),
  listen: unavailable('listen', NO_SOCKETS),
  connect: unavailable('connect', NO_SOCKETS),
  udpSocket: unavailable('udpSocket', NO_SOCKETS),
  stdin: null,
};
