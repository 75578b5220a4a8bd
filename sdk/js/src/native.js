// @warpgrid/sdk outside a component (`node`, `bun`): the same API as
// component.js, on Node.js's own DNS, filesystem and TCP, so a service runs
// unchanged under `node` while it is developed and inside `warp run` once
// packed. Which file a program gets is decided by package.json's
// `warpgrid` export condition, which only warp's bundler sets.

import { lookup } from 'node:dns/promises';
import { readFile as readFileFromDisk } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';

/** The protocols `database.connect` speaks (the shim's `db-protocol`). */
const PROTOCOLS = ['postgres', 'mysql', 'redis'];

export const dns = {
  /**
   * The IP addresses `name` resolves to, as strings ('127.0.0.1', '::1'),
   * from the system resolver. Fails with `code` 'ENOTFOUND' like the shim.
   * @param {string} name
   * @returns {Promise<string[]>}
   */
  async resolve(name) {
    const answers = await lookup(name, { all: true });
    return answers.map((answer) => answer.address);
  },
};

export const fs = {
  /**
   * The contents of the file at `path`: bytes, or text when `encoding` is
   * 'utf8' / 'utf-8'. (Inside a component, only the deployment's virtual
   * files can be read this way.)
   * @param {string} path
   * @param {string|{encoding?: string}} [encoding]
   * @returns {Promise<Uint8Array|string>}
   */
  async readFile(path, encoding) {
    const bytes = await readFileFromDisk(path);
    if (isUtf8(encoding)) return new TextDecoder().decode(bytes);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

export const database = {
  /**
   * A byte stream to a database server: here, a plain TCP connection to
   * `host:port` (`database` and `poolSize` matter only to warp's proxy;
   * the protocol's own handshake names the database).
   * @param {{ protocol: 'postgres'|'mysql'|'redis', host: string, port: number, database?: string, poolSize?: number }} config
   * @returns {Promise<Connection>}
   */
  async connect({ protocol, host, port }) {
    if (!PROTOCOLS.includes(protocol)) {
      throw new TypeError(`database.connect: protocol must be one of ${PROTOCOLS.join(', ')}, not ${protocol}`);
    }
    const socket = tcpConnect({ host, port, noDelay: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Connection(socket);
  },
};

/**
 * A connection from `database.connect`: what the server sends is buffered
 * as it arrives and handed out by `recv`, like the shim's.
 */
class Connection {
  #socket;
  #chunks = [];
  #ended = false;
  #error = null;
  #waiting = null;

  constructor(socket) {
    this.#socket = socket;
    const wake = () => {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.();
    };
    socket.on('data', (chunk) => {
      this.#chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      wake();
    });
    socket.on('error', (error) => {
      this.#error = error;
      wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      wake();
    });
  }

  /**
   * Sends `bytes`; resolves with how many were sent (all of them).
   * @param {Uint8Array} bytes
   * @returns {Promise<number>}
   */
  send(bytes) {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => (error ? reject(error) : resolve(bytes.length)));
    });
  }

  /**
   * Up to `maxBytes` of what the server sent, waiting when nothing is
   * buffered yet; an empty array at end of stream.
   * @param {number} [maxBytes] 64 KiB when not given
   * @returns {Promise<Uint8Array>}
   */
  async recv(maxBytes = 65536) {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return new Uint8Array(0);
      await new Promise((resolve) => (this.#waiting = resolve));
    }
    const chunk = this.#chunks[0];
    const max = Math.max(1, maxBytes);
    if (chunk.length <= max) return this.#chunks.shift();
    this.#chunks[0] = chunk.subarray(max);
    return chunk.subarray(0, max);
  }

  /** Closes the connection; later calls do nothing. */
  close() {
    this.#ended = true;
    this.#socket.destroy();
  }
}

/** Whether `encoding` ('utf8', or Node's `{ encoding: 'utf8' }`) asks for text. */
function isUtf8(encoding) {
  const name = typeof encoding === 'object' ? encoding?.encoding : encoding;
  return typeof name === 'string' && /^utf-?8$/i.test(name);
}

export const warpgrid = { dns, fs, database };
export default warpgrid;
