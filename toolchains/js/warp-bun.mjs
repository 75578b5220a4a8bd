// The Bun half of `warp pack --lang bun`, run by warp with the pinned `bun`:
//
//   bun warp-bun.mjs bundle REQUEST.json   Bun's bundler: the app and its
//                                          dependencies → one ES module,
//                                          with the Bun API runtime
//
// ComponentizeJS then runs exactly as for `--lang ts` (warp-js.mjs).
//
// Bun's APIs are mapped here, at bundle time: `import … from "bun"` and the
// `Bun` global become warp's runtime (bun/runtime.js); every file of the
// project (not node_modules) is parsed, and each use of an API a component
// cannot have (`Bun.spawn`, `bun:sqlite`, …) is reported with its file and
// line, all of them at once, before anything is componentized. Files the
// app reads with `Bun.file("…")` are embedded.
//
// A request is a JSON file warp writes; the result is one JSON line on
// stdout. A failure in the user's code prints the messages on stderr and
// exits 1; anything else exits 2.

import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';

const [command, requestPath] = process.argv.slice(2);
const request = JSON.parse(readFileSync(requestPath, 'utf8'));

const { parseSync } = await import(join(request.toolchain, 'node_modules', 'oxc-parser', 'index.js'));

class UserError extends Error {}

/// Names the `bun` module exports, and the `Bun` global has (bun/runtime.js).
const BUN_EXPORTS = [
  'serve', 'env', 'file', 'write', 'sleep', 'sleepSync', 'nanoseconds', 'version', 'revision', 'hash',
  'CryptoHasher', 'password', 'deepEquals', 'escapeHTML', 'main', 'argv', 'inspect', 'gc', 'which',
  'spawn', 'spawnSync', '$', 'listen', 'connect', 'udpSocket', 'stdin', 'stdout', 'stderr', 'randomUUIDv7',
  'isMainThread', 'fileURLToPath', 'pathToFileURL', 'readableStreamToText', 'readableStreamToJSON',
  'readableStreamToArrayBuffer', 'readableStreamToBytes',
];
const MAPPED = new Set(BUN_EXPORTS);

/// What a component cannot do, by `Bun.NAME`: the reason and the way out.
const REFUSED_APIS = {
  spawn: ['a component cannot start processes', 'do the work in the service itself, or call another service over HTTP'],
  spawnSync: ['a component cannot start processes', 'do the work in the service itself, or call another service over HTTP'],
  $: ['Bun Shell runs processes, and a component cannot start them', 'do the work in JavaScript (files: Bun.file)'],
  listen: [
    'a component opens no sockets of its own: it serves HTTP through its handler',
    'serve HTTP with Bun.serve({ fetch }); reach databases through @warpgrid/sdk',
  ],
  connect: [
    'a component opens no raw TCP connections',
    'reach PostgreSQL, MySQL and Redis through @warpgrid/sdk (warp\'s database proxy), HTTP services with fetch',
  ],
  udpSocket: ['a component opens no UDP sockets', 'use HTTP (fetch)'],
  stdin: ['a service component has no standard input', 'read the request body instead'],
  which: ['a component has no PATH and cannot run programs', 'do the work in the service itself'],
};

/// `bun:*` modules: why each is refused, and what to use.
const REFUSED_MODULES = {
  'bun:sqlite': [
    'SQLite runs in the process on local files, which a component has not',
    'use PostgreSQL or MySQL through @warpgrid/sdk (warp\'s database proxy), or keep data in a `[dirs]` entry with `mode = "rw"`',
  ],
  'bun:ffi': ['a component cannot load native libraries', 'port the native part to Wasm, or call it as a service'],
  'bun:jsc': ['JavaScriptCore internals do not exist in a component (its engine is SpiderMonkey)', 'remove the import'],
  'bun:test': ['tests do not belong in the service', 'keep tests in files the entry does not import'],
};

/// Node.js built-ins whose browser versions (Bun's bundler polyfills them)
/// work in a component; the others are refused like `--lang ts` does.
const POLYFILLED = new Set(['assert', 'buffer', 'events', 'path', 'punycode', 'querystring', 'string_decoder', 'url', 'util']);
// Under bun the list has Bun's own modules too (`bun`, `bun:sqlite`), handled apart.
const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_') && !name.startsWith('bun')));

const SOURCE = /\.(m|c)?[jt]sx?$/;
const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/// Problems found in the project's own files, reported together.
const problems = [];
/// Guest paths the app reads with `Bun.file`: files and directory prefixes.
const reads = { files: new Set(), prefixes: new Set() };
/// Whether the project's files call `Bun.serve`.
let serves = false;
/// The `Bun.NAME`s the project's files use (`*`: the `Bun` object itself,
/// passed around whole), which decide the optional parts of the runtime.
const USES = new Set();
/// The runtime's optional parts: the entry, and what in the bundle's files needs it.
const OPTIONAL = [
  { entry: 'utilities.js', names: ['hash', 'CryptoHasher', 'password', 'deepEquals', 'escapeHTML'] },
  { entry: 'buffer.js', text: /\bBuffer\b/ },
];

function isProjectFile(path) {
  return !path.includes(`${sep}node_modules${sep}`) && path.startsWith(request.root);
}

/// Where the app's own files are in the component: the project root is `/`,
/// as `bun run` from the project root has it as the working directory.
function guestPath(hostPath) {
  return `/${relative(request.root, hostPath).split(sep).join('/')}`;
}

function lineAt(text, offset) {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  const end = text.indexOf('\n', start);
  return { line, column: offset - start + 1, text: text.slice(start, end === -1 ? undefined : end) };
}

function report(file, source, offset, message, help) {
  problems.push({ file, ...lineAt(source, offset), message, help });
}

function isBuiltin(specifier) {
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return specifier.startsWith('node:') || builtins.has(name.split('/')[0]) ? name.split('/')[0] : null;
}

/// Checks one import of a project file: `bun:*` and Node.js built-ins.
function checkImport(file, source, offset, specifier) {
  if (typeof specifier !== 'string') return;
  if (specifier.startsWith('bun:')) {
    const [why, help] = REFUSED_MODULES[specifier] ?? ['it is part of the Bun runtime, which a component does not have', 'remove the import'];
    report(file, source, offset, `\`${specifier}\` cannot work in a component: ${why}`, help);
    return;
  }
  const builtin = isBuiltin(specifier);
  if (builtin && !POLYFILLED.has(builtin)) {
    report(
      file,
      source,
      offset,
      `\`${specifier}\` is a Node.js built-in module, and a component has no Node.js APIs`,
      'use Web APIs (fetch, crypto.subtle, crypto.randomUUID), Bun.file for files, or @warpgrid/sdk (DNS, databases)',
    );
  }
}

/// The constant value of `node`, as far as the bundle can know it: string
/// literals, `+`, template literals, `import.meta.dir`, `path.join(…)`, a
/// `const` of the same file (`consts`: name → initializer); a value that is
/// only known in part is `{ prefix }`.
function constant(node, file, consts = new Map(), depth = 0) {
  if (!node || depth > 8) return null;
  const inner = (child) => constant(child, file, consts, depth + 1);
  switch (node.type) {
    case 'Identifier':
      return consts.has(node.name) ? inner(consts.get(node.name)) : null;
    case 'Literal':
      return typeof node.value === 'string' ? { value: node.value } : null;
    case 'TemplateLiteral': {
      let value = '';
      for (let i = 0; i < node.quasis.length; i++) {
        value += node.quasis[i].value.cooked ?? '';
        if (i < node.expressions.length) {
          const part = inner(node.expressions[i]);
          if (!part?.value && part?.value !== '') return { prefix: value + (part?.prefix ?? '') };
          value += part.value;
        }
      }
      return { value };
    }
    case 'BinaryExpression': {
      if (node.operator !== '+') return null;
      const left = inner(node.left);
      if (left?.value === undefined) return left;
      const right = inner(node.right);
      if (right?.value !== undefined) return { value: left.value + right.value };
      return { prefix: left.value + (right?.prefix ?? '') };
    }
    case 'MemberExpression':
      if (node.object.type === 'MetaProperty' && ['dir', 'dirname'].includes(node.property.name)) {
        return { value: guestPath(dirname(file)) };
      }
      if (node.object.type === 'MetaProperty' && ['path', 'filename'].includes(node.property.name)) {
        return { value: guestPath(file) };
      }
      return null;
    case 'CallExpression': {
      const callee = node.callee;
      const name = callee.type === 'MemberExpression' ? callee.property.name : null;
      if (!['join', 'resolve'].includes(name)) return null;
      const parts = node.arguments.map(constant_);
      const known = [];
      for (const part of parts) {
        if (part?.value === undefined) {
          return known.length > 0 ? { prefix: `${posix.join(...known)}/${part?.prefix ?? ''}` } : null;
        }
        known.push(part.value);
      }
      return { value: name === 'resolve' ? posix.resolve('/', ...known) : posix.join(...known) };
    }
    default:
      return null;
  }
}

/// The guest path `path` names, relative paths against the working directory `/`.
function absolute(path) {
  return posix.resolve('/', path);
}

/// Parses one project file, reports what cannot work, records what it
/// reads, and gives its source with `import.meta.dir` & co. made constant.
function scan(file, source) {
  const parsed = parseSync(file, source);
  if (parsed.errors.length > 0) return source; // Bun's bundler reports syntax errors itself.
  // Local names bound to the `bun` module's exports (`import { file as f } from "bun"`).
  const fromBun = new Map();
  const edits = [];
  // `const name = …` anywhere in the file (shadowing aside), for paths built from them.
  const consts = new Map();
  (function collect(node) {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(collect);
    if (node.type === 'VariableDeclaration' && node.kind === 'const') {
      for (const declarator of node.declarations) {
        if (declarator.id.type === 'Identifier' && declarator.init) consts.set(declarator.id.name, declarator.init);
      }
    }
    for (const key in node) if (key !== 'type') collect(node[key]);
  })(parsed.program);

  function refuseApi(name, offset) {
    if (name !== undefined) USES.add(name);
    const refused = REFUSED_APIS[name];
    if (refused) report(file, source, offset, `\`Bun.${name}\` cannot work in a component: ${refused[0]}`, refused[1]);
    else if (name !== undefined && !MAPPED.has(name) && name !== 'default') {
      report(
        file,
        source,
        offset,
        `\`Bun.${name}\` is not available in a warp component (warp's Bun runtime does not map it)`,
        'docs/BUN.md lists the Bun APIs a component has',
      );
    }
  }

  function checkServeOptions(options) {
    if (options?.type !== 'ObjectExpression') return;
    for (const property of options.properties) {
      if (property.key?.name === 'websocket' || property.key?.value === 'websocket') {
        report(
          file,
          source,
          property.start,
          '`websocket` in `Bun.serve` cannot work in a component: wasi:http has no WebSocket upgrade',
          'serve WebSockets from a service outside the component, or poll over HTTP',
        );
      }
    }
  }

  function onBunCall(name, call) {
    if (name === 'serve') {
      serves = true;
      checkServeOptions(call.arguments[0]);
    } else if (name === 'file') {
      const path = constant(call.arguments[0], file, consts);
      if (path?.value !== undefined) reads.files.add(absolute(path.value));
      else if (path?.prefix !== undefined) reads.prefixes.add(absolute(`${path.prefix}x`).slice(0, -1));
    } else if (name === 'write') {
      const path = constant(call.arguments[0], file, consts);
      if (path?.value !== undefined && !writable(absolute(path.value))) {
        report(
          file,
          source,
          call.start,
          `\`Bun.write\` to \`${path.value}\` cannot work in a component: it is not in a directory warp.toml preopens read-write`,
          'add the directory to warp.toml: [dirs] "/data" = { path = "data", mode = "rw" }, and write under /data',
        );
      }
    }
  }

  /// `Bun.password.hash(…)` with argon2 at a cost known here to be far too
  /// slow for an engine without a JIT (bun/utils.js refuses it at run time too).
  function checkPasswordCost(call) {
    const options = call.arguments[1];
    const known = (node) => (node?.type === 'Literal' ? node.value : undefined);
    const property = (key) => options?.properties?.find((p) => (p.key?.name ?? p.key?.value) === key)?.value;
    let algorithm = 'argon2id';
    let memory = 65536;
    let passes = 2;
    if (options?.type === 'Literal') algorithm = options.value;
    else if (options?.type === 'ObjectExpression') {
      const values = [property('algorithm'), property('memoryCost'), property('timeCost')];
      if (values.some((value) => value && known(value) === undefined)) return; // computed: checked at run time
      algorithm = known(values[0]) ?? algorithm;
      memory = known(values[1]) ?? memory;
      passes = known(values[2]) ?? passes;
    } else if (options) return;
    if (typeof algorithm !== 'string' || !algorithm.startsWith('argon2') || memory * passes <= 8 * 1024) return;
    report(
      file,
      source,
      call.start,
      `\`Bun.password.hash\` with argon2 at ${memory} KiB × ${passes} passes cannot work in a component: about ${Math.max(1, Math.round(((memory / 1024) * passes * 1.7) / 60))} minute(s) per hash on an engine without a JIT (measured: ~1.7 s per MiB per pass)`,
      'hash passwords in a native service, or pass { algorithm: "bcrypt", cost: 8 } (~1.5 s per hash in a component)',
    );
  }

  /// `Bun.NAME` (or `Bun["NAME"]`) → NAME.
  function bunMember(node) {
    if (node?.type !== 'MemberExpression' || node.object.type !== 'Identifier' || node.object.name !== 'Bun') return null;
    if (!node.computed) return node.property.name;
    return typeof node.property.value === 'string' ? node.property.value : null;
  }

  function walk(node, parent) {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child, parent);
      return;
    }
    switch (node.type) {
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportAllDeclaration':
        if (node.source) {
          checkImport(file, source, node.source.start, node.source.value);
          if (node.source.value === 'bun') {
            for (const specifier of node.specifiers ?? []) {
              const imported = specifier.imported?.name ?? specifier.imported?.value ?? specifier.local?.name;
              if (specifier.type !== 'ImportSpecifier' && specifier.type !== 'ExportSpecifier') USES.add('*');
              if (specifier.type === 'ImportSpecifier' || specifier.type === 'ExportSpecifier') {
                refuseApi(imported, specifier.start);
                if (specifier.local) fromBun.set(specifier.local.name, imported);
              }
            }
          }
        }
        break;
      case 'ImportExpression':
        checkImport(file, source, node.source.start, node.source.value);
        break;
      case 'ExportDefaultDeclaration':
        checkServeOptions(node.declaration);
        break;
      case 'CallExpression': {
        const callee = node.callee;
        if (callee.type === 'Identifier' && callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          checkImport(file, source, node.arguments[0].start, node.arguments[0].value);
        }
        const name = bunMember(callee) ?? (callee.type === 'Identifier' ? fromBun.get(callee.name) : null);
        if (name) onBunCall(name, node);
        if (callee.type === 'MemberExpression' && ['hash', 'hashSync'].includes(callee.property.name)) {
          const owner = bunMember(callee.object) ?? (callee.object.type === 'Identifier' ? fromBun.get(callee.object.name) : null);
          if (owner === 'password') checkPasswordCost(node);
        }
        break;
      }
      case 'MemberExpression': {
        const name = bunMember(node);
        if (name) refuseApi(name, node.start);
        if (node.object.type === 'MetaProperty' && node.object.meta.name === 'import') {
          const value = constant(node, file);
          const property = node.property.name;
          if (value) edits.push([node.start, node.end, JSON.stringify(value.value)]);
          else if (property === 'file') edits.push([node.start, node.end, JSON.stringify(posix.basename(guestPath(file)))]);
          else if (property === 'main') edits.push([node.start, node.end, String(file === request.entry)]);
        }
        break;
      }
      case 'VariableDeclarator':
        if (node.init?.type === 'Identifier' && node.init.name === 'Bun' && node.id.type !== 'ObjectPattern') USES.add('*');
        // `const { spawn } = Bun`
        if (node.init?.type === 'Identifier' && node.init.name === 'Bun' && node.id.type === 'ObjectPattern') {
          for (const property of node.id.properties) {
            const name = property.key?.name ?? property.key?.value;
            refuseApi(name, property.start);
            if (property.value?.type === 'Identifier') fromBun.set(property.value.name, name);
          }
        }
        break;
      default:
        break;
    }
    for (const key in node) {
      if (key !== 'type' && key !== 'start' && key !== 'end') walk(node[key], node);
    }
  }
  walk(parsed.program, null);

  edits.sort((a, b) => b[0] - a[0]);
  let out = source;
  for (const [start, end, text] of edits) out = out.slice(0, start) + text + out.slice(end);
  return out;
}

/// Whether `guestPath` is inside a directory warp.toml preopens read-write.
function writable(path) {
  return request.dirs.some((dir) => dir.writable && within(path, dir.guest));
}

/// Whether `path` is inside a directory warp.toml preopens.
function preopened(path) {
  return request.dirs.some((dir) => within(path, dir.guest));
}

function within(path, dir) {
  return path === dir || path.startsWith(`${dir.replace(/\/$/, '')}/`);
}

/// The SDK's file for `specifier` under the `warpgrid` condition, when the
/// project does not have its own copy in node_modules.
function sdkFile(specifier) {
  const dir = join(request.sdk_path, '@warpgrid', 'sdk');
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const subpath = `.${specifier.slice('@warpgrid/sdk'.length)}`;
  const target = manifest.exports?.[subpath];
  const file = typeof target === 'string' ? target : (target?.warpgrid ?? target?.default);
  return file ? join(dir, file) : null;
}

const warpPlugin = {
  name: 'warp',
  setup(build) {
    build.onResolve({ filter: /^bun$/ }, () => ({ path: 'bun', namespace: 'warp-bun' }));
    build.onLoad({ filter: /.*/, namespace: 'warp-bun' }, () => ({
      contents: `const Bun = globalThis.Bun;\nexport default Bun;\nexport const { ${BUN_EXPORTS.filter((n) => n !== '$').join(', ')} } = Bun;\nexport const $ = Bun.$;\n`,
      loader: 'js',
    }));
    // Refused imports of project files are reported by `scan` with their
    // line; the bundle goes on without them so every problem is found.
    build.onResolve({ filter: /^(bun:|node:)|^[a-z_]+(\/.*)?$/ }, (args) => {
      const refusedModule = args.path.startsWith('bun:');
      const builtin = isBuiltin(args.path);
      if (!refusedModule && !(builtin && !POLYFILLED.has(builtin))) return undefined;
      if (isProjectFile(args.importer)) return { path: args.path, namespace: 'warp-refused' };
      if (refusedModule) {
        const source = readFileSync(args.importer, 'utf8');
        report(
          args.importer,
          source,
          Math.max(0, source.indexOf(args.path)),
          `\`${args.path}\` cannot work in a component (imported by a dependency)`,
          'use another package for this, or one whose browser build avoids it',
        );
        return { path: args.path, namespace: 'warp-refused' };
      }
      return undefined; // a dependency: Bun's browser resolution (its `browser` map, polyfills) decides
    });
    build.onLoad({ filter: /.*/, namespace: 'warp-refused' }, () => ({ contents: 'export default {};', loader: 'js' }));
    // A module of a scheme no component has (`cloudflare:sockets`, behind a
    // runtime check in a dependency): a module that throws when evaluated,
    // so a dynamic import() rejects instead of the component trapping.
    build.onResolve({ filter: /^[a-z][a-z0-9+.-]*:/ }, (args) => {
      if (/^(wasi|warpgrid|node|bun|data|https?|file):/.test(args.path)) return undefined;
      return { path: args.path, namespace: 'warp-absent' };
    });
    build.onLoad({ filter: /.*/, namespace: 'warp-absent' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`\`${args.path}\` is not available in a warp component`)});`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^(wasi|warpgrid):/ }, (args) => {
      if (!request.interfaces.includes(args.path)) {
        const shim = /^warpgrid:shim\/([a-z-]+)@/.exec(args.path)?.[1];
        const help = shim ? `enable the \`${shim}\` shim in warp.toml ([shims])` : `the component's world has: ${request.interfaces.join(', ')}`;
        throw new UserError(`\`${args.path}\` is not in this component's world (${help}); imported by ${args.importer}`);
      }
      return { path: args.path, namespace: 'warp-interface' };
    });
    build.onLoad({ filter: /.*/, namespace: 'warp-interface' }, (args) => ({
      contents: `module.exports = globalThis.__warp_imports[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^@warpgrid\/sdk(\/.*)?$/ }, (args) => {
      for (let dir = args.resolveDir; dir.startsWith(request.root); dir = dirname(dir)) {
        try {
          statSync(join(dir, 'node_modules', '@warpgrid', 'sdk'));
          return undefined;
        } catch {}
        if (dir === dirname(dir)) break;
      }
      const file = sdkFile(args.path);
      return file ? { path: file } : undefined;
    });
    build.onLoad({ filter: SOURCE }, (args) => {
      if (!isProjectFile(args.path)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      return { contents: scan(args.path, source), loader: LOADERS[extname(args.path)] ?? 'js' };
    });
  },
};

/// Bun's advice for a Node.js built-in a dependency imports ("set target to
/// 'node' or 'bun'") does not apply to a component: say what does.
function reworded(message) {
  const builtin = /^Browser (?:build cannot (?:import|require\(\)) Node\.js (?:builtin|module)|polyfill for module): "(?:node:)?([^"]+)"/.exec(message)?.[1];
  return builtin ? `\`${builtin}\` is a Node.js built-in module, and a component has no Node.js APIs` : message;
}

/// Bun's bundler log entries as a compiler prints them.
function formatLogs(logs) {
  return logs
    .filter((log) => log.level === 'error')
    .map((log) => {
      const at = log.position;
      const where = at ? `${relative(request.root, at.file)}:${at.line}:${at.column + 1}: ` : '';
      const excerpt = at?.lineText ? `\n    ${at.line} | ${at.lineText}` : '';
      return `error: ${where}${reworded(log.message)}${excerpt}\n`;
    })
    .join('\n');
}

function formatProblems() {
  const seen = new Set();
  return problems
    .filter((p) => {
      const key = `${p.file}:${p.line}:${p.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    })
    .map((p) => `error: ${relative(request.root, p.file)}:${p.line}:${p.column}: ${p.message}\n    ${p.line} | ${p.text}\n  help: ${p.help}\n`)
    .join('\n');
}

/// At most this much is embedded for `Bun.file` (more belongs in `[dirs]`).
const EMBED_LIMIT = 8 * 1024 * 1024;

/// The files to embed: each `Bun.file` path that exists in the project,
/// and every file under a directory a computed path starts with.
function embedded() {
  const files = new Map();
  const add = (guest) => {
    if (preopened(guest)) return;
    const host = join(request.root, ...guest.split('/').filter(Boolean));
    if (!host.startsWith(request.root) || host.includes(`${sep}node_modules${sep}`)) return;
    let stat;
    try {
      stat = statSync(host);
    } catch {
      return;
    }
    if (stat.isFile()) files.set(guest, host);
    else if (stat.isDirectory() && host !== request.root) {
      for (const entry of readdirSync(host, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath ?? entry.path, entry.name);
        if (!path.includes(`${sep}node_modules${sep}`)) files.set(guestPath(path), path);
      }
    }
  };
  for (const guest of reads.files) add(guest);
  for (const prefix of reads.prefixes) add(prefix.endsWith('/') ? prefix.slice(0, -1) : posix.dirname(prefix));
  let total = 0;
  const table = {};
  for (const [guest, host] of [...files].sort()) {
    const bytes = readFileSync(host);
    total += bytes.length;
    if (total > EMBED_LIMIT) {
      throw new UserError(
        `error: the files the app reads with Bun.file are more than ${EMBED_LIMIT / 1024 / 1024} MB (at ${guest})\n  help: serve large files from a preopened directory: warp.toml [dirs] "/public" = "public"\n`,
      );
    }
    table[guest] = bytes.toString('base64');
  }
  return { table, hosts: [...files.values()] };
}

/// The app's ES module as the body of `async function __warp_app()`: its
/// export statements become the returned object.
function asFunctionBody(code) {
  const parsed = parseSync('app.js', code);
  if (parsed.errors.length > 0) throw new Error(`Bun's bundle does not parse: ${parsed.errors[0].message}`);
  const exported = [];
  const edits = [];
  for (const statement of parsed.program.body) {
    if (statement.type === 'ExportNamedDeclaration' && !statement.source) {
      if (statement.declaration) {
        edits.push([statement.start, statement.declaration.start, '']);
        const declaration = statement.declaration;
        const names = declaration.declarations?.map((d) => d.id.name) ?? [declaration.id.name];
        for (const name of names) exported.push([name, name]);
      } else {
        edits.push([statement.start, statement.end, '']);
        for (const specifier of statement.specifiers) {
          exported.push([specifier.exported.name ?? specifier.exported.value, specifier.local.name]);
        }
      }
    } else if (statement.type === 'ExportDefaultDeclaration') {
      edits.push([statement.start, statement.declaration.start, 'const __warp_default = ']);
      exported.push(['default', '__warp_default']);
    } else if (statement.type === 'ImportDeclaration' || statement.type === 'ExportAllDeclaration') {
      throw new Error(`Bun's bundle kept an import: ${code.slice(statement.start, statement.end)}`);
    }
  }
  edits.sort((a, b) => b[0] - a[0]);
  let body = code;
  for (const [start, end, text] of edits) body = body.slice(0, start) + text + body.slice(end);
  const result = exported.map(([name, local]) => `${JSON.stringify(name)}: ${local}`).join(', ');
  return `${body}\nreturn { ${result} };\n`;
}

/// The runtime's entries for this bundle: runtime.js, and each optional
/// part the project's files use (USES) or a dependency's text names
/// (`Bun.hash`, `Buffer`).
function runtimeEntries(inputs) {
  const texts = inputs.filter((file) => !isProjectFile(file) && SOURCE.test(file)).map((file) => readFileSync(file, 'utf8'));
  const projectTexts = inputs.filter((file) => isProjectFile(file) && SOURCE.test(file)).map((file) => readFileSync(file, 'utf8'));
  const entries = ['runtime.js'];
  for (const part of OPTIONAL) {
    const named = part.names?.some(
      (name) => USES.has('*') || USES.has(name) || texts.some((text) => new RegExp(`\\bBun\\s*\\.\\s*${name}\\b`).test(text)),
    );
    const mentioned = part.text && [...texts, ...projectTexts].some((text) => part.text.test(text));
    if (named || mentioned) entries.push(part.entry);
  }
  return entries;
}

async function buildRuntime(entries) {
  const nodeModules = join(request.toolchain, 'node_modules');
  const parts = [];
  for (const entry of entries) parts.push(await buildRuntimePart(entry, nodeModules));
  return parts.join('\n');
}

async function buildRuntimePart(entry, nodeModules) {
  const result = await Bun.build({
    entrypoints: [new URL(`./bun/${entry}`, import.meta.url).pathname],
    target: 'browser',
    format: 'iife',
    throw: false,
    define: { __WARP_BUN_VERSION__: JSON.stringify(request.bun_version) },
    plugins: [
      {
        name: 'warp-toolchain',
        setup(build) {
          build.onResolve({ filter: /^@noble\// }, (args) => ({ path: Bun.resolveSync(args.path, nodeModules) }));
        },
      },
    ],
  });
  if (!result.success) throw new Error(`warp's Bun runtime failed to bundle:\n${formatLogs(result.logs)}`);
  return result.outputs[0].text();
}

async function bundle() {
  const result = await Bun.build({
    entrypoints: [request.entry],
    target: 'browser',
    format: 'esm',
    conditions: ['warpgrid', 'workerd', 'worker', 'browser'],
    define: { 'import.meta.env': 'process.env' },
    metafile: true,
    throw: false,
    plugins: [warpPlugin],
  });
  if (problems.length > 0) throw new UserError(formatProblems());
  if (!result.success) throw new UserError(formatLogs(result.logs));
  const code = await result.outputs[0].text();
  const body = asFunctionBody(code);
  const { table, hosts } = embedded();

  const entryExports = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]]?.exports ?? [];
  // A handler: the project calls Bun.serve or exports a default, or a
  // framework in the bundle calls Bun.serve for it (Elysia's `.listen()`).
  const handler = serves || entryExports.includes('default') || /\bBun\.serve\s*\(/.test(code);

  const imports = request.interfaces.map((name, i) => `import * as __warp_i${i} from ${JSON.stringify(name)};`).join('\n');
  const interfaces = request.interfaces.map((name, i) => `  ${JSON.stringify(name)}: __warp_i${i},`).join('\n');
  const prelude = readFileSync(new URL('./prelude.js', import.meta.url), 'utf8');
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes(':'))
    .map((input) => (isAbsolute(input) ? input : resolve(request.root, input)));
  const runtime = await buildRuntime(runtimeEntries(inputs));
  const source = [
    imports,
    `globalThis.__warp_imports = {\n${interfaces}\n};`,
    prelude,
    `globalThis.__warp_embedded = ${JSON.stringify(table)};`,
    runtime,
    `async function __warp_app() {\n${body}}\n`,
  ].join('\n');
  await Bun.write(request.out, source);

  return { inputs: inputs.concat(hosts), handler, bytes: Buffer.byteLength(source), embedded: Object.keys(table) };
}

try {
  if (command !== 'bundle') throw new Error(`unknown command \`${command}\``);
  const result = await bundle();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  if (error instanceof UserError) {
    process.stderr.write(error.message);
    process.exit(1);
  }
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(2);
}
