// @warpgrid/sdk inside a component (`warp pack --lang ts`): the same API as
// native.js, on warp's `warpgrid:shim` interfaces (wit/shim.wit). warp's
// bundler picks this file (the `warpgrid` export condition) and puts the
// interfaces of the component's world in `globalThis.__warp_imports`, by
// name. The table is read when a function is called, never when this
// module loads: ComponentizeJS runs the top level at build time, where no
// import may be called.
//
// The shims' functions are synchronous (the host blocks the guest while it
// works); the API is promise-based anyway so code written for native.js
// (and Node.js) runs unchanged. A WIT `result` error is thrown by the
// bindings with the error's value in `payload`; it is rethrown here as an
// Error with a Node.js-style `code`.

const VERSION = '0.1.0';

/** The warp.toml lines that enable each shim (src/shim.rs `config_snippet`). */
const ENABLE = {
  dns: '[shims.dns]',
  filesystem: '[shims] filesystem = true',
  'database-proxy': '[[shims.database]] (protocol, host, port of each database)',
};

/** The interface `warpgrid:shim/<name>`, or an error saying how to enable it. */
function shim(name) {
  const iface = globalThis.__warp_imports?.[`warpgrid:shim/${name}@${VERSION}`];
  if (!iface) {
    throw new Error(
      `@warpgrid/sdk: the \`${name}\` shim is not enabled for this component; ` +
        `enable it in warp.toml with ${ENABLE[name]} and pack again`,
    );
  }
  return iface;
}

/** The error value of a failed shim call (its `payload`), if it is one. */
function payloadOf(error) {
  if (typeof error === 'string') return error;
  return typeof error?.payload === 'string' ? error.payload : null;
}

/** An Error with a `code`, like Node.js's system errors. */
function coded(message, code, cause) {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.code = code;
  return error;
}

export const dns = {
  /**
   * The IP addresses `name` resolves to, as strings: the deployment's
   * service registry (`NAME.NAMESPACE.warp.local`), `[shims.dns] hosts`,
   * then the host's resolver. Fails with `code` 'ENOTFOUND', 'ETIMEOUT'
   * or 'EINTERNAL'.
   * @param {string} name
   * @returns {Promise<string[]>}
   */
  async resolve(name) {
    const { resolve } = shim('dns');
    let answers;
    try {
      answers = resolve(name);
    } catch (error) {
      const payload = payloadOf(error);
      if (payload === 'not-found') throw coded(`getaddrinfo ENOTFOUND ${name}`, 'ENOTFOUND', error);
      if (payload === 'timeout') throw coded(`resolving ${name} timed out`, 'ETIMEOUT', error);
      if (payload === 'internal') throw coded(`resolving ${name} failed in the host`, 'EINTERNAL', error);
      throw error;
    }
    return answers.map(formatAddress);
  },
};

export const fs = {
  /**
   * The contents of the deployment's virtual file at `path`: bytes, or
   * text when `encoding` is 'utf8' / 'utf-8'. Other paths fail with `code`
   * 'ENOENT' (a component reaches no other files through this API).
   * @param {string} path
   * @param {string|{encoding?: string}} [encoding]
   * @returns {Promise<Uint8Array|string>}
   */
  async readFile(path, encoding) {
    const contents = shim('filesystem').readVirtual(path);
    if (contents === undefined || contents === null) {
      throw coded(`ENOENT: ${path} is not a virtual file of this deployment`, 'ENOENT');
    }
    const bytes = contents instanceof Uint8Array ? contents : Uint8Array.from(contents);
    return isUtf8(encoding) ? new TextDecoder().decode(bytes) : bytes;
  },
};

/** The shim's `db-error` cases: the `code` and what to tell the user. */
const DB_ERRORS = {
  'connection-refused': [
    'ECONNREFUSED',
    (to) => `connection to ${to} refused (no [[shims.database]] entry in warp.toml lists it, or the server refused)`,
  ],
  timeout: ['ETIMEDOUT', (to) => `${to} timed out`],
  'protocol-error': ['EPROTO', (to) => `protocol error on the connection to ${to} (a TLS failure is in warp's log)`],
  'pool-exhausted': [
    'EPOOLEXHAUSTED',
    (to) => `every pooled connection to ${to} is in use (raise pool_size in its [[shims.database]] entry)`,
  ],
  closed: ['ECONNRESET', (to) => `the connection to ${to} is closed`],
};

/** Rethrows a failed database-proxy call as a coded Error. */
function dbError(error, to) {
  const known = DB_ERRORS[payloadOf(error)];
  if (!known) return error;
  return coded(known[1](to), known[0], error);
}

const PROTOCOLS = ['postgres', 'mysql', 'redis'];

export const database = {
  /**
   * A byte stream to a database that a `[[shims.database]]` entry lists,
   * through warp's pooled proxy (the host opens, pools and, with `tls`,
   * encrypts the real connection). `poolSize` is advisory: the entry's
   * `pool_size` rules.
   * @param {{ protocol: 'postgres'|'mysql'|'redis', host: string, port: number, database?: string, poolSize?: number }} config
   * @returns {Promise<Connection>}
   */
  async connect({ protocol, host, port, database, poolSize }) {
    if (!PROTOCOLS.includes(protocol)) {
      throw new TypeError(`database.connect: protocol must be one of ${PROTOCOLS.join(', ')}, not ${protocol}`);
    }
    const proxy = shim('database-proxy');
    const to = `${protocol} at ${host}:${port}`;
    try {
      const handle = proxy.connect({ protocol, host, port, database: database ?? undefined, poolSize: poolSize ?? 0 });
      return new Connection(proxy, handle, to);
    } catch (error) {
      throw dbError(error, to);
    }
  },
};

/** A connection from `database.connect`: a handle of the database proxy. */
class Connection {
  #proxy;
  #handle;
  #to;
  #closed = false;

  constructor(proxy, handle, to) {
    this.#proxy = proxy;
    this.#handle = handle;
    this.#to = to;
  }

  #call(name, ...args) {
    if (this.#closed) throw coded(`the connection to ${this.#to} is closed`, 'ECONNRESET');
    try {
      return this.#proxy[name](this.#handle, ...args);
    } catch (error) {
      throw dbError(error, this.#to);
    }
  }

  /**
   * Sends `bytes`; resolves with how many the proxy took.
   * @param {Uint8Array} bytes
   * @returns {Promise<number>}
   */
  async send(bytes) {
    return this.#call('send', bytes);
  }

  /**
   * Up to `maxBytes` of what the server sent (the host waits for at least
   * one); an empty array at end of stream.
   * @param {number} [maxBytes] 64 KiB when not given
   * @returns {Promise<Uint8Array>}
   */
  async recv(maxBytes = 65536) {
    try {
      const bytes = this.#call('recv', Math.max(1, Math.min(maxBytes, 0xffffffff)));
      return bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    } catch (error) {
      // A connection the server closed is the end of the stream, as natively.
      if (error.code === 'ECONNRESET' && !this.#closed) return new Uint8Array(0);
      throw error;
    }
  }

  /** Gives the connection back to the host's pool; later calls do nothing. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#proxy.close(this.#handle);
  }
}

/** An `ip-address` record as text: dotted IPv4, compressed IPv6 (RFC 5952). */
function formatAddress({ octets, isV6 }) {
  const bytes = Array.from(octets);
  if (!isV6) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // IPv4-mapped (::ffff:a.b.c.d) keeps its dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  // The longest run of two or more zero groups (the first, on a tie) becomes '::'.
  let [best, bestLength] = [-1, 1];
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) [best, bestLength] = [i, end - i];
    i = end;
  }
  const hex = (list) => list.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

/** Whether `encoding` ('utf8', or Node's `{ encoding: 'utf8' }`) asks for text. */
function isUtf8(encoding) {
  const name = typeof encoding === 'object' ? encoding?.encoding : encoding;
  return typeof name === 'string' && /^utf-?8$/i.test(name);
}

export const warpgrid = { dns, fs, database };
export default warpgrid;
