// Types of @warpgrid/sdk (src/native.js and src/component.js: one API).

/** A byte stream to a database server (warp's proxy in a component, TCP natively). */
export interface Connection {
  /** Sends `bytes`; resolves with how many were sent. */
  send(bytes: Uint8Array): Promise<number>;
  /** Up to `maxBytes` the server sent, waiting for at least one; empty at end of stream. */
  recv(maxBytes?: number): Promise<Uint8Array>;
  /** Closes the connection (in a component: gives it back to the host's pool). */
  close(): void;
}

export interface DatabaseConfig {
  protocol: 'postgres' | 'mysql' | 'redis';
  host: string;
  port: number;
  database?: string;
  /** Advisory: the `[[shims.database]]` entry's `pool_size` rules. */
  poolSize?: number;
}

/** An Error with a Node.js-style code: 'ENOTFOUND', 'ENOENT', 'ECONNREFUSED', 'EPOOLEXHAUSTED'… */
export interface CodedError extends Error {
  code?: string;
}

export declare const dns: {
  /** The IP addresses `name` resolves to, as text. */
  resolve(name: string): Promise<string[]>;
};

export declare const fs: {
  /** A file's bytes; in a component, only the deployment's virtual files. */
  readFile(path: string): Promise<Uint8Array>;
  /** A file's text. */
  readFile(path: string, encoding: 'utf8' | 'utf-8' | { encoding: 'utf8' | 'utf-8' }): Promise<string>;
};

export declare const database: {
  connect(config: DatabaseConfig): Promise<Connection>;
};

export declare const warpgrid: { dns: typeof dns; fs: typeof fs; database: typeof database };
export default warpgrid;
