// The JS SDK against a real PostgreSQL: `node --test sdk/js/test/`.
//
// A throwaway cluster is made with the machine's `initdb` and `postgres`
// (as the `postgres` user when the tests run as root, like
// tests/it/servers.rs). Without PostgreSQL the server tests are skipped,
// loudly; with CI=true they fail instead. The component flavour of the SDK
// (src/component.js) is tested in a child `node --conditions=warpgrid`
// whose `globalThis.__warp_imports` holds a synchronous stand-in for warp's
// database proxy (a worker thread doing the TCP, the caller blocked in
// Atomics.wait), so pg.js runs over the exact code a component would.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { dns, fs, database } from '@warpgrid/sdk';
import pg, { Client, Pool, hashes, parseConnectionString } from '@warpgrid/sdk/pg';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const hex = (bytes) => Buffer.from(bytes).toString('hex');

/** The newest `/usr/lib/postgresql/<version>/bin` with initdb and postgres. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const found = versions.map((v) => join(root, v, 'bin')).find((bin) => existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb')));
  return found ?? null;
}

const BIN = postgresBin();
const NO_POSTGRES = BIN ? false : 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/{initdb,postgres})';
if (NO_POSTGRES) {
  console.warn(`\n*** SKIPPING the PostgreSQL tests of the JS SDK: ${NO_POSTGRES} ***\n`);
  if (process.env.CI === 'true') {
    test('PostgreSQL is installed (required when CI=true)', () => assert.fail(NO_POSTGRES));
  }
}

// ---------------------------------------------------------------- no server needed

describe('hashes (known vectors)', () => {
  test('SHA-256 of "abc"', () => {
    assert.equal(hex(hashes.sha256('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  test('HMAC-SHA256, RFC 4231 test case 2', () => {
    assert.equal(
      hex(hashes.hmacSha256('Jefe', 'what do ya want for nothing?')),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
  test('PBKDF2-HMAC-SHA256 "password"/"salt", 1 and 4096 iterations', () => {
    assert.equal(hex(hashes.pbkdf2Sha256('password', 'salt', 1)), '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b');
    assert.equal(hex(hashes.pbkdf2Sha256('password', 'salt', 4096)), 'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a');
  });
  test('MD5 of "" and of "The quick brown fox jumps over the lazy dog"', () => {
    assert.equal(hex(hashes.md5('')), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(hex(hashes.md5('The quick brown fox jumps over the lazy dog')), '9e107d9d372bb6826bd81d3542a419d6');
  });
  test('every length up to two blocks, against node:crypto', async () => {
    const { createHash, createHmac, randomBytes } = await import('node:crypto');
    for (let n = 0; n < 140; n++) {
      const data = randomBytes(n);
      assert.equal(hex(hashes.sha256(data)), createHash('sha256').update(data).digest('hex'), `sha256, ${n} bytes`);
      assert.equal(hex(hashes.md5(data)), createHash('md5').update(data).digest('hex'), `md5, ${n} bytes`);
      const key = randomBytes(n);
      assert.equal(hex(hashes.hmacSha256(key, data)), createHmac('sha256', key).update(data).digest('hex'), `hmac, ${n} bytes`);
    }
  });
});

test('connection strings', () => {
  assert.deepEqual(parseConnectionString('postgres://us%40er:p%3Ass@db.example:6543/my%20db'), {
    user: 'us@er',
    password: 'p:ss',
    host: 'db.example',
    port: 6543,
    database: 'my db',
  });
  assert.deepEqual(parseConnectionString('postgresql://[::1]/app?application_name=api'), {
    application_name: 'api',
    host: '::1',
    database: 'app',
  });
  assert.throws(() => parseConnectionString('mysql://x'), TypeError);
  assert.equal(pg.Pool, Pool, "the default export is pg's shape");
});

test('dns.resolve("localhost")', async () => {
  const addresses = await dns.resolve('localhost');
  assert.ok(addresses.includes('127.0.0.1') || addresses.includes('::1'), `localhost resolved to ${addresses}`);
  await assert.rejects(dns.resolve('no-such-host.invalid'), { code: 'ENOTFOUND' });
});

test('fs.readFile of a temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'warp-sdk-js-fs-'));
  try {
    const path = join(dir, 'hello.txt');
    await writeFile(path, 'héllo\n');
    const bytes = await fs.readFile(path);
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(hex(bytes), Buffer.from('héllo\n').toString('hex'));
    assert.equal(await fs.readFile(path, 'utf8'), 'héllo\n');
    await assert.rejects(fs.readFile(join(dir, 'missing')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('database.connect natively: a refused port fails with ECONNREFUSED', async () => {
  const port = await freePort();
  await assert.rejects(database.connect({ protocol: 'postgres', host: '127.0.0.1', port }), { code: 'ECONNREFUSED' });
  await assert.rejects(database.connect({ protocol: 'oracle', host: '127.0.0.1', port }), TypeError);
});

test('component.js: shims from globalThis.__warp_imports, errors coded', async () => {
  const saved = globalThis.__warp_imports;
  const { warpgrid } = await import(pathToFileURL(join(SRC, 'component.js')).href);
  const thrown = (payload) => Object.assign(new Error('host error'), { payload });
  try {
    globalThis.__warp_imports = {};
    await assert.rejects(warpgrid.dns.resolve('x'), /`dns` shim is not enabled.*\[shims\.dns\]/);
    await assert.rejects(warpgrid.fs.readFile('/x'), /\[shims\] filesystem = true/);
    await assert.rejects(warpgrid.database.connect({ protocol: 'redis', host: 'h', port: 1 }), /\[\[shims\.database\]\]/);

    const v6 = (...groups) => ({ octets: groups.flatMap((g) => [g >> 8, g & 255]), isV6: true });
    globalThis.__warp_imports = {
      'warpgrid:shim/dns@0.1.0': {
        resolve(name) {
          if (name === 'slow') throw thrown('timeout');
          if (name !== 'db.prod.warp.local') throw thrown('not-found');
          return [
            { octets: Uint8Array.of(10, 0, 0, 5), isV6: false },
            v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            v6(0, 0, 0, 0, 0, 0, 0, 1),
            v6(0, 0, 0, 0, 0, 0, 0, 0),
            v6(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1),
            v6(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6),
            v6(0xfe80, 0, 0, 0, 0x1ff, 0xfe23, 0x4567, 0x890a),
            v6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1),
            v6(0x2001, 0, 0, 1, 0, 0, 0, 0),
          ];
        },
      },
      'warpgrid:shim/filesystem@0.1.0': {
        readVirtual: (path) => (path === '/etc/app.json' ? new TextEncoder().encode('{"a":1}') : undefined),
      },
      'warpgrid:shim/database-proxy@0.1.0': {
        connect: ({ host }) => {
          throw thrown(host === 'busy' ? 'pool-exhausted' : 'connection-refused');
        },
      },
    };
    assert.deepEqual(await warpgrid.dns.resolve('db.prod.warp.local'), [
      '10.0.0.5',
      '2001:db8::1',
      '::1',
      '::',
      '2001:db8:0:1::1',
      '2001:db8:1:2:3:4:5:6',
      'fe80::1ff:fe23:4567:890a',
      '::ffff:127.0.0.1',
      '2001:0:0:1::',
    ]);
    await assert.rejects(warpgrid.dns.resolve('nope'), { code: 'ENOTFOUND', message: /nope/ });
    await assert.rejects(warpgrid.dns.resolve('slow'), { code: 'ETIMEOUT' });
    assert.equal(await warpgrid.fs.readFile('/etc/app.json', 'utf-8'), '{"a":1}');
    assert.deepEqual(await warpgrid.fs.readFile('/etc/app.json'), new TextEncoder().encode('{"a":1}'));
    await assert.rejects(warpgrid.fs.readFile('/etc/passwd'), { code: 'ENOENT', message: /not a virtual file/ });
    await assert.rejects(warpgrid.database.connect({ protocol: 'postgres', host: 'db', port: 5432 }), {
      code: 'ECONNREFUSED',
      message: /\[\[shims\.database\]\]/,
    });
    await assert.rejects(warpgrid.database.connect({ protocol: 'postgres', host: 'busy', port: 5432 }), {
      code: 'EPOOLEXHAUSTED',
    });
  } finally {
    globalThis.__warp_imports = saved;
  }
});

// ---------------------------------------------------------------- a real server

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether the server at `port` lets `warp` in (it listens before it is ready: 57P03). */
async function canLogIn(port) {
  const client = new Client({ host: '127.0.0.1', port, user: 'warp', database: 'postgres' });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A throwaway cluster (trust, superuser `warp`) on a free port. */
async function startPostgres(bin) {
  const dir = await mkdtemp(join(tmpdir(), 'warp-sdk-js-pg-'));
  const data = join(dir, 'pgdata');
  await mkdir(data);
  const root = process.getuid?.() === 0;
  if (root) {
    // The server runs as `postgres`: let it reach and own its directory.
    const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    await chmod(dir, 0o755);
    await chown(data, id('-u'), id('-g'));
  }
  const asPostgres = (program, args) =>
    root ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
  const init = spawnSync(...asPostgres('initdb', ['-A', 'trust', '-U', 'warp', '--no-sync', '-D', data]), { encoding: 'utf8' });
  assert.equal(init.status, 0, `initdb failed:\n${init.stderr}`);
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', data, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
  const child = spawn(...asPostgres('postgres', args), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  let exited = null;
  child.on('exit', (code) => (exited = code ?? 'a signal'));
  const started = Date.now();
  while (!(await canLogIn(port))) {
    if (exited !== null) throw new Error(`postgres exited with ${exited} before listening:\n${log}`);
    if (Date.now() - started > 30_000) throw new Error(`postgres did not listen on ${port}:\n${log}`);
    await sleep(50);
  }
  return {
    port,
    data,
    async stop() {
      if (exited === null) {
        const stopped = new Promise((resolve) => child.once('exit', resolve));
        spawnSync(...asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']), { stdio: 'ignore' });
        await Promise.race([stopped, sleep(10_000)]);
        if (exited === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('PostgreSQL', { skip: NO_POSTGRES }, () => {
  let server;
  let url;

  before(async () => {
    server = await startPostgres(BIN);
    url = `postgres://warp@127.0.0.1:${server.port}/postgres`;
  });

  after(async () => {
    await server?.stop();
  });

  test('trust login through a connection string; a parameter', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const result = await client.query('SELECT $1::int + 1 AS n', [41]);
      assert.deepEqual(result.rows, [{ n: 42 }]);
      assert.equal(result.command, 'SELECT');
      assert.equal(result.rowCount, 1);
      assert.equal(result.fields[0].name, 'n');
      assert.equal(result.fields[0].dataTypeID, 23);
      assert.equal(client.parameters.client_encoding, 'UTF8');
      const array = await client.query({ text: 'SELECT 1 AS a, $1::text AS b', values: ['x'], rowMode: 'array' });
      assert.deepEqual(array.rows, [[1, 'x']]);
    } finally {
      await client.end();
    }
    await assert.rejects(client.query('SELECT 1'), /not queryable/);
  });

  test('a table: values of several types in and out', async () => {
    const client = new Client({ host: '127.0.0.1', port: server.port, user: 'warp', database: 'postgres' });
    await client.connect();
    try {
      const created = await client.query(`
        CREATE TABLE things (
          id serial PRIMARY KEY, name text, big int8, small int2, price numeric(10, 2), ratio float8,
          ok bool, doc jsonb, at timestamptz, day date, blob bytea, tags text[], nums int4[], nothing text
        );
        COMMENT ON TABLE things IS 'test'`);
      assert.deepEqual(created.map((r) => r.command), ['CREATE', 'COMMENT']);
      const at = new Date('2024-03-04T05:06:07.123Z');
      const values = [
        'café ☕ "quoted"',
        9007199254740993n,
        -7,
        '12.50',
        0.25,
        true,
        { a: [1, 2], b: 'x' },
        at,
        '2024-03-04',
        Uint8Array.of(0, 1, 92, 254, 255),
        ['a', 'b "c"', null, 'd\\e'],
        [1, 2, 3],
        undefined,
      ];
      const inserted = await client.query(
        'INSERT INTO things (name, big, small, price, ratio, ok, doc, at, day, blob, tags, nums, nothing) ' +
          'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id',
        values,
      );
      assert.equal(inserted.command, 'INSERT');
      assert.equal(inserted.rowCount, 1);
      const { rows } = await client.query('SELECT * FROM things WHERE id = $1', [inserted.rows[0].id]);
      const [row] = rows;
      assert.equal(row.name, 'café ☕ "quoted"');
      assert.equal(row.big, '9007199254740993');
      assert.equal(row.small, -7);
      assert.equal(row.price, '12.50');
      assert.equal(row.ratio, 0.25);
      assert.equal(row.ok, true);
      assert.deepEqual(row.doc, { a: [1, 2], b: 'x' });
      assert.ok(row.at instanceof Date);
      assert.equal(row.at.toISOString(), at.toISOString());
      assert.ok(row.day instanceof Date);
      assert.deepEqual([row.day.getFullYear(), row.day.getMonth(), row.day.getDate()], [2024, 2, 4]);
      assert.ok(row.blob instanceof Uint8Array);
      assert.deepEqual([...row.blob], [0, 1, 92, 254, 255]);
      assert.deepEqual(row.tags, ['a', 'b "c"', null, 'd\\e']);
      assert.deepEqual(row.nums, [1, 2, 3]);
      assert.equal(row.nothing, null);
      const updated = await client.query('UPDATE things SET ok = $1 WHERE ok', [false]);
      assert.deepEqual([updated.command, updated.rowCount], ['UPDATE', 1]);
      const { rows: more } = await client.query(
        "SELECT 1.5::float4 AS f, 'NaN'::float8 AS nan, NULL::int AS n, '{\"k\": null}'::json AS j, " +
          "'2024-01-02 03:04:05'::timestamp AS local, 'infinity'::timestamptz AS forever",
      );
      assert.equal(more[0].f, 1.5);
      assert.ok(Number.isNaN(more[0].nan));
      assert.equal(more[0].n, null);
      assert.deepEqual(more[0].j, { k: null });
      assert.equal(more[0].local.getTime(), new Date(2024, 0, 2, 3, 4, 5).getTime());
      assert.equal(more[0].forever, Infinity);
    } finally {
      await client.end();
    }
  });

  test('an SQL error carries its SQLSTATE; the client stays usable', async () => {
    const client = new Client(url);
    await client.connect();
    try {
      await assert.rejects(client.query('SELECT * FROM no_such_table'), (error) => {
        assert.equal(error.code, '42P01');
        assert.equal(error.severity, 'ERROR');
        assert.match(error.message, /relation "no_such_table" does not exist/);
        assert.match(String(error), /^error: relation/);
        return true;
      });
      await client.query('CREATE TEMP TABLE once (id int PRIMARY KEY)');
      await client.query('INSERT INTO once VALUES ($1)', [1]);
      await assert.rejects(client.query('INSERT INTO once VALUES ($1)', [1]), (error) => {
        assert.equal(error.code, '23505');
        assert.match(error.detail, /already exists/);
        assert.equal(error.constraint, 'once_pkey');
        return true;
      });
      await assert.rejects(client.query('SELECT $1::int', ['not a number']), { code: '22P02' });
      await assert.rejects(client.query('COPY once FROM STDIN'), { message: /not supported by @warpgrid\/sdk\/pg/ });
      assert.deepEqual((await client.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
    } finally {
      await client.end();
    }
  });

  test('a pool: 10 parallel queries on at most 3 connections', async () => {
    const pool = new Pool({ connectionString: url, max: 3 });
    try {
      let most = 0;
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const promise = pool.query('SELECT pg_backend_pid() AS pid, $1::int AS i, pg_sleep(0.05)', [i]);
          most = Math.max(most, pool.totalCount);
          return promise;
        }),
      );
      assert.deepEqual(results.map((r) => r.rows[0].i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const pids = new Set(results.map((r) => r.rows[0].pid));
      assert.ok(pids.size <= 3, `${pids.size} backends served the pool`);
      assert.ok(most <= 3 && pool.totalCount <= 3, `the pool grew to ${Math.max(most, pool.totalCount)}`);
      assert.equal(pool.waitingCount, 0);

      const client = await pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await client.query('COMMIT');
      client.release();
      assert.throws(() => client.release(), /already been released/);

      // A client whose connection died is dropped, and the pool goes on.
      const doomed = await pool.connect();
      const { rows } = await pool.query('SELECT pg_terminate_backend($1) AS killed', [doomed.processID]);
      assert.equal(rows[0].killed, true);
      await assert.rejects(doomed.query('SELECT 1'));
      doomed.release();
      assert.deepEqual((await pool.query('SELECT 3 AS three')).rows, [{ three: 3 }]);
    } finally {
      await pool.end();
    }
    await assert.rejects(pool.query('SELECT 1'), /after calling end/);
  });

  test('a pool whose server refuses: every query fails, no client is kept', async () => {
    const pool = new Pool({ host: '127.0.0.1', port: await freePort(), user: 'warp', max: 2 });
    const results = await Promise.allSettled([1, 2, 3].map(() => pool.query('SELECT 1')));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.equal(results[0].reason.code, 'ECONNREFUSED');
    assert.equal(pool.totalCount, 0);
    await pool.end();
  });

  describe('password logins', () => {
    const port = () => server.port;
    const login = (user, password) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port()}/postgres`;

    before(async () => {
      const admin = new Client(url);
      await admin.connect();
      await admin.query("SET password_encryption = 'scram-sha-256'");
      await admin.query("CREATE ROLE scram_user LOGIN PASSWORD 's3cret:@/%'");
      await admin.query("SET password_encryption = 'md5'");
      await admin.query("CREATE ROLE md5_user LOGIN PASSWORD 'md5 pass'");
      await admin.query("CREATE ROLE plain_user LOGIN PASSWORD 'plain'");
      const { rows } = await admin.query(
        "SELECT rolname, left(rolpassword, 13) AS kind FROM pg_authid WHERE rolname LIKE '%_user' ORDER BY rolname",
      );
      assert.deepEqual(rows.map((r) => [r.rolname, r.kind.startsWith('SCRAM') ? 'scram' : r.kind.slice(0, 3)]), [
        ['md5_user', 'md5'],
        ['plain_user', 'md5'],
        ['scram_user', 'scram'],
      ]);
      await writeFile(
        join(server.data, 'pg_hba.conf'),
        [
          'local all all trust',
          'host all scram_user 127.0.0.1/32 scram-sha-256',
          'host all md5_user 127.0.0.1/32 md5',
          'host all plain_user 127.0.0.1/32 password',
          'host all all 127.0.0.1/32 trust',
          '',
        ].join('\n'),
      );
      await admin.query('SELECT pg_reload_conf()');
      await admin.end();
      // The postmaster reloads asynchronously: wait until passwords are asked.
      const started = Date.now();
      for (;;) {
        const probe = new Client(login('scram_user', 'wrong'));
        const failed = await probe.connect().then(() => probe.end().then(() => false), () => true);
        if (failed) break;
        assert.ok(Date.now() - started < 10_000, 'pg_hba.conf was not reloaded');
        await sleep(50);
      }
    });

    for (const [user, password, method] of [
      ['scram_user', 's3cret:@/%', 'SCRAM-SHA-256'],
      ['md5_user', 'md5 pass', 'MD5'],
      ['plain_user', 'plain', 'cleartext'],
    ]) {
      test(`${method}: the right password logs in, a wrong one fails with 28P01`, async () => {
        const client = new Client(login(user, password));
        await client.connect();
        assert.deepEqual((await client.query('SELECT current_user AS me')).rows, [{ me: user }]);
        await client.end();
        const wrong = new Client(login(user, `${password}x`));
        await assert.rejects(wrong.connect(), (error) => {
          assert.equal(error.code, '28P01');
          assert.match(error.message, new RegExp(`password authentication failed for user "${user}"`));
          return true;
        });
        const none = new Client({ host: '127.0.0.1', port: port(), user, database: 'postgres', password: undefined });
        await assert.rejects(none.connect(), /asks a password/);
        // A password function, as pg allows.
        const fn = new Client({ host: '127.0.0.1', port: port(), user, database: 'postgres', password: async () => password });
        await fn.connect();
        await fn.end();
      });
    }

    test('component mode: pg.js over component.js and a stand-in database proxy', async () => {
      const script = componentScript({ url, scram: login('scram_user', 's3cret:@/%') });
      const child = spawnSync(process.execPath, ['--conditions=warpgrid', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(child.status, 0, `the component-mode script failed:\n${child.stderr}\n${child.stdout}`);
      const report = JSON.parse(child.stdout.trim().split('\n').pop());
      assert.equal(report.platform, 'component');
      assert.deepEqual(report.sum, [{ n: 42 }]);
      assert.deepEqual(report.parallel, [0, 1, 2, 3, 4]);
      assert.ok(report.connects >= 1 && report.connects <= 2, `${report.connects} proxy connections`);
      assert.equal(report.me, 'scram_user');
      assert.equal(report.errorCode, '42P01');
      assert.equal(report.unlisted, 'ECONNREFUSED');
    });
  });
});

/**
 * The child of the component-mode test: warp's shim table stood in for by
 * a synchronous proxy (a worker holds the sockets; the caller waits in
 * Atomics.wait, as a component waits on its host), then pg.js on top.
 */
function componentScript({ url, scram }) {
  const worker = `
    const { parentPort, workerData } = require('node:worker_threads');
    const net = require('node:net');
    const header = new Int32Array(workerData, 0, 2);
    const data = new Uint8Array(workerData, 8);
    const conns = new Map();
    let next = 1;
    const reply = (state, value) => { header[1] = value; Atomics.store(header, 0, state); Atomics.notify(header, 0); };
    parentPort.on('message', async (m) => {
      if (m.op === 'connect') {
        const c = { socket: net.connect(m.port, m.host), chunks: [], ended: false, wake: null };
        c.socket.on('data', (d) => { c.chunks.push(d); c.wake?.(); });
        c.socket.on('close', () => { c.ended = true; c.wake?.(); });
        c.socket.on('error', () => {});
        c.socket.once('connect', () => { c.connected = true; conns.set(next, c); reply(1, next++); });
        c.socket.once('error', () => { if (!c.connected) reply(2, 0); });
      } else if (m.op === 'send') {
        const c = conns.get(m.handle);
        if (!c) return reply(2, 4);
        c.socket.write(Buffer.from(data.slice(0, m.length)), () => reply(1, m.length));
      } else if (m.op === 'recv') {
        const c = conns.get(m.handle);
        if (!c) return reply(2, 4);
        while (!c.chunks.length && !c.ended) await new Promise((r) => (c.wake = r));
        if (!c.chunks.length) return reply(1, 0);
        const chunk = c.chunks.shift();
        const n = Math.min(chunk.length, m.max);
        data.set(chunk.subarray(0, n));
        if (n < chunk.length) c.chunks.unshift(chunk.subarray(n));
        reply(1, n);
      } else if (m.op === 'close') {
        conns.get(m.handle)?.socket.destroy();
        conns.delete(m.handle);
      }
    });`;
  return `
    import { Worker } from 'node:worker_threads';
    const ERRORS = ['connection-refused', 'timeout', 'protocol-error', 'pool-exhausted', 'closed'];
    const shared = new SharedArrayBuffer(8 + (1 << 20));
    const header = new Int32Array(shared, 0, 2);
    const data = new Uint8Array(shared, 8);
    // execArgv: [] — the worker is CommonJS, not this script's --input-type=module.
    const worker = new Worker(${JSON.stringify(worker)}, { eval: true, workerData: shared, execArgv: [] });
    worker.unref();
    const call = (message) => {
      Atomics.store(header, 0, 0);
      worker.postMessage(message);
      if (Atomics.wait(header, 0, 0, 30_000) === 'timed-out') throw new Error('the stand-in proxy did not answer');
      if (header[0] === 2) throw Object.assign(new Error('shim error'), { payload: ERRORS[header[1]] });
      return header[1];
    };
    let connects = 0;
    globalThis.__warp_imports = {
      'warpgrid:shim/database-proxy@0.1.0': {
        connect({ protocol, host, port, database, poolSize }) {
          if (protocol !== 'postgres' || typeof port !== 'number' || typeof poolSize !== 'number') throw new Error('bad config');
          connects++;
          return BigInt(call({ op: 'connect', host, port }));
        },
        send: (handle, bytes) => (data.set(bytes), call({ op: 'send', handle: Number(handle), length: bytes.length })),
        recv: (handle, max) => data.slice(0, call({ op: 'recv', handle: Number(handle), max: Math.min(max, data.length) })),
        close: (handle) => worker.postMessage({ op: 'close', handle: Number(handle) }),
      },
    };
    const sdk = await import(${JSON.stringify(pathToFileURL(join(SRC, 'component.js')).href)});
    const { Pool, Client } = await import(${JSON.stringify(pathToFileURL(join(SRC, 'pg.js')).href)});
    const report = { platform: 'component' };
    const pool = new Pool({ connectionString: ${JSON.stringify(url)}, max: 2 });
    report.sum = (await pool.query('SELECT $1::int + 1 AS n', [41])).rows;
    const parallel = await Promise.all([0, 1, 2, 3, 4].map((i) => pool.query('SELECT $1::int AS i', [i])));
    report.parallel = parallel.map((r) => r.rows[0].i);
    report.errorCode = await pool.query('SELECT * FROM nowhere').catch((e) => e.code);
    await pool.end();
    report.connects = connects;
    const client = new Client(${JSON.stringify(scram)});
    await client.connect();
    report.me = (await client.query('SELECT current_user AS me')).rows[0].me;
    await client.end();
    report.unlisted = await sdk.database.connect({ protocol: 'postgres', host: '127.0.0.1', port: 1 }).catch((e) => e.code);
    console.log(JSON.stringify(report));
  `;
}
