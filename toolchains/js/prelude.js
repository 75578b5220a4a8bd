// warp's start of every JS component (`warp pack --lang ts`): what the
// bundler puts before the app. The app itself is wrapped in `__warp_app`
// and evaluated on the first request an instance sees, not at build time:
// ComponentizeJS pre-initializes (Wizer) the module's top level, where no
// import may be called, so a top-level `process.env.X` would be frozen at
// build time or trap. Evaluated per instance, it reads the deployment's env.
//
// `globalThis.__warp_imports` (set just above this file by warp-js.mjs)
// holds the WIT interfaces of the component's world by name; the JS SDK
// reaches the shims through it.

const interfaces = globalThis.__warp_imports;

let variables = null;
function vars() {
  variables ??= Object.fromEntries(interfaces['wasi:cli/environment@0.2.10'].getEnvironment());
  return variables;
}

// `process.env` (and `import.meta.env`, which the bundler points here):
// the deployment's environment, read when first used.
const env = new Proxy(
  {},
  {
    get: (_, key) => (typeof key === 'string' ? vars()[key] : undefined),
    has: (_, key) => key in vars(),
    ownKeys: () => Object.keys(vars()),
    getOwnPropertyDescriptor: (_, key) =>
      key in vars() ? { value: vars()[key], enumerable: true, configurable: true, writable: true } : undefined,
    set: (_, key, value) => {
      vars()[key] = String(value);
      return true;
    },
    deleteProperty: (_, key) => delete vars()[key],
  },
);

// The parts of Node's `process` that libraries touch on any runtime. A
// component gets no process events (exit, signals): listeners are kept by
// no one, as a process that never exits would keep them.
const hrtime = (previous) => {
  const nanos = BigInt(Math.round(performance.now() * 1e6));
  const time = [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)];
  if (!previous) return time;
  const delta = (time[0] - previous[0]) * 1e9 + (time[1] - previous[1]);
  return [Math.floor(delta / 1e9), delta % 1e9];
};
hrtime.bigint = () => BigInt(Math.round(performance.now() * 1e6));
const ignored = function () {
  return this;
};

globalThis.process ??= {
  env,
  argv: ['warp'],
  platform: 'wasi',
  version: '',
  versions: {},
  pid: 1,
  cwd: () => '/',
  nextTick: (callback, ...args) => queueMicrotask(() => callback(...args)),
  hrtime,
  uptime: () => performance.now() / 1000,
  on: ignored,
  once: ignored,
  off: ignored,
  addListener: ignored,
  removeListener: ignored,
  removeAllListeners: ignored,
  emit: () => false,
  listenerCount: () => 0,
  exit(code) {
    throw new Error(`process.exit(${code ?? ''}) called: a component cannot exit; return a response instead`);
  },
};

// StarlingMonkey's Response has no `clone()` (frameworks clone their
// canned 404s: Elysia) and no `bytes()`. A Response made here remembers a
// body it can make again (anything but a stream), which `clone()` uses;
// `instanceof Response` stays true of the engine's own (from `fetch`).
// (In a block: a top-level `class Response` would shadow the global for the
// app, which shares this module's scope.)
{
  const EngineResponse = globalThis.Response;
  const bodies = new WeakMap();
  class Response extends EngineResponse {
    constructor(body = null, init = undefined) {
      super(body, init);
      if (!(body instanceof ReadableStream)) bodies.set(this, body);
    }
    static json(data, init = undefined) {
      const headers = new Headers(init?.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static [Symbol.hasInstance](value) {
      return value instanceof EngineResponse;
    }
  }
  if (typeof EngineResponse.prototype.clone !== 'function') {
    Response.prototype.clone = function clone() {
      if (this.bodyUsed) throw new TypeError('Response.clone: the body has already been read');
      if (!bodies.has(this) && this.body !== null) {
        throw new TypeError('Response.clone: a streamed body cannot be cloned in a warp component; make the Response again');
      }
      const { status, statusText, headers } = this;
      return new Response(bodies.get(this) ?? null, { status, statusText, headers: new Headers(headers) });
    };
  }
  globalThis.Response = Response;
  for (const type of [EngineResponse, Request, Blob]) {
    if (typeof type.prototype.bytes !== 'function') {
      type.prototype.bytes = async function bytes() {
        return new Uint8Array(await this.arrayBuffer());
      };
    }
  }
}

const listen = globalThis.addEventListener.bind(globalThis);

// The app, evaluated once per instance: its exports and the `fetch`
// listeners its top level registered.
let app = null;
function load() {
  if (app) return app;
  const listeners = [];
  globalThis.addEventListener = (type, listener, options) =>
    type === 'fetch' ? listeners.push(listener) : listen(type, listener, options);
  try {
    app = { exports: __warp_app(), listeners };
  } finally {
    globalThis.addEventListener = listen;
  }
  return app;
}

/// An error as people read it: StarlingMonkey's `stack` has no message line.
function describe(error) {
  const stack = typeof error?.stack === 'string' && error.stack.trim() !== '' ? `\n${error.stack.trimEnd()}` : '';
  return `${error}${stack}`;
}

function failed(message) {
  console.error(`warp: ${message}`);
  return new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain' } });
}

listen('fetch', (event) => {
  let loaded;
  try {
    loaded = load();
  } catch (error) {
    event.respondWith(failed(`the app's top level threw: ${describe(error)}`));
    return;
  }
  if (typeof loaded.exports?.then === 'function') {
    // An app whose top level awaits (the Bun path's always may): its
    // exports once it has run. A top level that fails runs again on the
    // next request, as a synchronous one does.
    event.respondWith(
      loaded.exports.then(
        (exports) => respond(event, exports),
        (error) => {
          app = null;
          return failed(`the app's top level threw: ${describe(error)}`);
        },
      ),
    );
    return;
  }
  if (loaded.listeners.length > 0) {
    for (const listener of loaded.listeners) {
      typeof listener === 'function' ? listener(event) : listener.handleEvent(event);
    }
    return;
  }
  event.respondWith(respond(event, loaded.exports));
});

/// The response of the app's handler to `event`: Bun's `serve` (warp's
/// Bun runtime sets `__warp_respond`), else the default export's `fetch`.
function respond(event, exports) {
  if (typeof globalThis.__warp_respond === 'function') {
    return Promise.resolve()
      .then(() => globalThis.__warp_respond(event.request, exports))
      .catch((error) => failed(`the handler threw: ${describe(error)}`));
  }
  const handler = exports.default;
  const fetch =
    typeof handler?.fetch === 'function' ? handler.fetch.bind(handler) : typeof handler === 'function' ? handler : null;
  if (fetch === null) {
    return failed("the app has no handler: export default { fetch(request) { … } }, or addEventListener('fetch', …)");
  }
  // The `env` and `ctx` arguments of `export default { fetch(request, env, ctx) }` (hono's `c.env`).
  const context = { waitUntil: (promise) => event.waitUntil(promise), passThroughOnException() {} };
  return Promise.resolve()
    .then(() => fetch(event.request, env, context))
    .catch((error) => failed(`the handler threw: ${describe(error)}`));
}
