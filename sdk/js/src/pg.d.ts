// Types of @warpgrid/sdk/pg: the common subset of npm `pg`'s.

export interface ClientConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string | (() => string | Promise<string>);
  database?: string;
  application_name?: string;
}

export interface PoolConfig extends ClientConfig {
  /** The most clients at once (10). */
  max?: number;
}

export interface FieldDef {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: 'text' | 'binary';
}

export interface QueryResult<R = any> {
  command: string;
  rowCount: number | null;
  oid: number | null;
  rows: R[];
  fields: FieldDef[];
}

export interface QueryConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
}

type Callback<T> = (error: Error | null, result?: T) => void;

declare class Emitter {
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
  off(event: string, listener: (...args: any[]) => void): this;
  removeListener(event: string, listener: (...args: any[]) => void): this;
  emit(event: string, ...args: any[]): boolean;
  listenerCount(event: string): number;
}

export declare class Client extends Emitter {
  constructor(config?: string | ClientConfig);
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  processID: number | null;
  secretKey: number | null;
  parameters: Record<string, string>;
  /** Whether the connection failed or was ended. */
  readonly broken: boolean;
  connect(): Promise<void>;
  connect(callback: Callback<void>): void;
  query<R = any>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
  query<R = any>(text: string | QueryConfig, values: unknown[], callback: Callback<QueryResult<R>>): void;
  query<R = any>(text: string | QueryConfig, callback: Callback<QueryResult<R>>): void;
  end(): Promise<void>;
  end(callback: Callback<void>): void;
}

export interface PoolClient extends Client {
  /** Gives the client back; with an error (or `true`), closes it instead. */
  release(error?: Error | boolean): void;
}

export declare class Pool extends Emitter {
  constructor(config?: string | PoolConfig);
  readonly options: PoolConfig & { max: number };
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly ended: boolean;
  connect(): Promise<PoolClient>;
  connect(callback: (error: Error | null, client?: PoolClient, release?: (error?: Error | boolean) => void) => void): void;
  query<R = any>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
  query<R = any>(text: string | QueryConfig, values: unknown[], callback: Callback<QueryResult<R>>): void;
  query<R = any>(text: string | QueryConfig, callback: Callback<QueryResult<R>>): void;
  end(): Promise<void>;
  end(callback: Callback<void>): void;
}

/** An ErrorResponse: `code` is the SQLSTATE ('42P01', '23505', '28P01'…). */
export declare class DatabaseError extends Error {
  severity?: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  internalPosition?: string;
  internalQuery?: string;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  file?: string;
  line?: string;
  routine?: string;
}

export declare const types: {
  setTypeParser(oid: number, parse: (text: string) => unknown): void;
  setTypeParser(oid: number, format: 'text', parse: (text: string) => unknown): void;
  getTypeParser(oid: number): (text: string) => unknown;
};

export declare function parseConnectionString(text: string): ClientConfig & Record<string, string | number>;

export declare const hashes: {
  sha256(data: Uint8Array | string): Uint8Array;
  hmacSha256(key: Uint8Array | string, data: Uint8Array | string): Uint8Array;
  pbkdf2Sha256(password: Uint8Array | string, salt: Uint8Array | string, iterations: number, length?: number): Uint8Array;
  md5(data: Uint8Array | string): Uint8Array;
};
export declare const sha256: typeof hashes.sha256;
export declare const hmacSha256: typeof hashes.hmacSha256;
export declare const pbkdf2Sha256: typeof hashes.pbkdf2Sha256;
export declare const md5: typeof hashes.md5;

declare const pg: {
  Pool: typeof Pool;
  Client: typeof Client;
  DatabaseError: typeof DatabaseError;
  types: typeof types;
  parseConnectionString: typeof parseConnectionString;
};
export default pg;
