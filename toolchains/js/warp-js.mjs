// The JS half of `warp pack --lang ts`, run by warp with the machine's node:
//
//   node warp-js.mjs bundle REQUEST.json       esbuild: the app and its npm
//                                              dependencies → one ES module
//   node warp-js.mjs componentize REQUEST.json ComponentizeJS → a component
//
// A request is a JSON file warp writes; the result is one JSON line on
// stdout. A failure in the user's code (a syntax error, a refused import)
// prints the bundler's messages on stderr and exits 1; anything else exits 2.

import { readFile, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [command, requestPath] = process.argv.slice(2);
const request = JSON.parse(await readFile(requestPath, 'utf8'));

function load(pkg, file) {
  return import(pathToFileURL(join(request.toolchain, 'node_modules', pkg, file)).href);
}

class UserError extends Error {}

const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/// Which WIT interface `path` names (`wasi:cli/environment@0.2.10`,
/// `warpgrid:shim/dns@0.1.0`), if it names one.
function isInterface(path) {
  return /^(wasi|warpgrid):/.test(path);
}

// Imports the component cannot satisfy are refused at the import, with its file:line.
const warpPlugin = {
  name: 'warp',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.warpResolving) return undefined;
      const name = args.path.startsWith('node:') ? args.path.slice(5) : args.path;
      if (args.path.startsWith('node:') || builtins.has(name.split('/')[0])) {
        // A package may map the built-in away for browsers (package.json
        // `"browser": { "crypto": false }`): esbuild's own resolution says so.
        const mapped = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { warpResolving: true },
        });
        if (mapped.errors.length === 0 && !mapped.external) {
          // `false` comes back as a path without a namespace: an empty module.
          return isAbsolute(mapped.path) ? mapped : { path: args.path, namespace: 'warp-disabled' };
        }
        return {
          errors: [
            {
              text: `\`${args.path}\` is a Node.js built-in module, and a component has no Node.js APIs`,
              detail: 'use Web APIs (fetch, crypto.subtle, TextEncoder) or @warpgrid/sdk (files, DNS, databases)',
            },
          ],
        };
      }
      // A module of a scheme no component has (`cloudflare:sockets`, behind a
      // runtime check in a dependency): a module that throws when evaluated,
      // so a dynamic import() rejects instead of the component trapping.
      if (/^[a-z][a-z0-9+.-]*:/.test(args.path) && !/^(wasi|warpgrid|data|https?|file):/.test(args.path)) {
        return { path: args.path, namespace: 'warp-absent' };
      }
      if (isInterface(args.path)) {
        if (!request.interfaces.includes(args.path)) {
          const shim = /^warpgrid:shim\/([a-z-]+)@/.exec(args.path)?.[1];
          const help = shim
            ? `enable the \`${shim}\` shim in warp.toml ([shims])`
            : `the component's world has: ${request.interfaces.join(', ')}`;
          return { errors: [{ text: `\`${args.path}\` is not in this component's world (${help})` }] };
        }
        return { path: args.path, namespace: 'warp-interface' };
      }
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'warp-disabled' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'warp-absent' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`\`${args.path}\` is not available in a warp component`)});`,
      loader: 'js',
    }));
    // A WIT interface is one of the module imports warp puts at the top.
    build.onLoad({ filter: /.*/, namespace: 'warp-interface' }, (args) => ({
      contents: `module.exports = globalThis.__warp_imports[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
  },
};

async function bundle() {
  const esbuild = await load('esbuild', 'lib/main.js');
  const common = {
    absWorkingDir: request.root,
    bundle: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    platform: 'browser',
    target: 'es2022',
    conditions: ['warpgrid', 'workerd', 'worker', 'browser'],
    nodePaths: [request.sdk_path],
    define: { 'import.meta.env': 'process.env' },
    charset: 'utf8',
    legalComments: 'none',
    plugins: [warpPlugin],
  };
  let app;
  try {
    app = await esbuild.build({
      ...common,
      entryPoints: [request.entry],
      format: 'iife',
      globalName: '__warp_exports',
    });
  } catch (error) {
    if (!error.errors) throw error;
    const text = await esbuild.formatMessages(error.errors, { kind: 'error', color: request.color });
    throw new UserError(text.join(''));
  }
  // The entry's own exports (the iife output names none): is there a default?
  const entry = await esbuild.build({
    ...common,
    bundle: false,
    plugins: [],
    entryPoints: [request.entry],
    format: 'esm',
  });
  const exports = Object.values(entry.metafile.outputs)[0].exports;
  const code = app.outputFiles[0].text;
  const handler = exports.includes('default') || /\baddEventListener\(\s*["'`]fetch["'`]/.test(code);

  const imports = request.interfaces
    .map((name, i) => `import * as __warp_i${i} from ${JSON.stringify(name)};`)
    .join('\n');
  const table = request.interfaces.map((name, i) => `  ${JSON.stringify(name)}: __warp_i${i},`).join('\n');
  const prelude = await readFile(new URL('./prelude.js', import.meta.url), 'utf8');
  const source = `${imports}\nglobalThis.__warp_imports = {\n${table}\n};\n${prelude}\nfunction __warp_app() {\n${code}return __warp_exports;\n}\n`;
  await writeFile(request.out, source);

  const inputs = Object.keys(app.metafile.inputs)
    .filter((input) => !input.includes(':'))
    .map((input) => (isAbsolute(input) ? input : resolve(request.root, input)));
  // A Bun app packed as TypeScript: warp says to pack it with --lang bun.
  const bun = /\bBun\.serve\s*\(/.test(code);
  return { inputs, handler, bun, bytes: Buffer.byteLength(source) };
}

async function componentize() {
  const { componentize } = await load('@bytecodealliance/componentize-js', 'src/componentize.js');
  // Relative to the working directory, the source is named `app.js` in stack traces.
  process.chdir(dirname(request.source));
  const { component } = await componentize({
    sourcePath: request.source,
    witPath: request.wit,
    worldName: request.world,
    // warp's own Wizer: deterministic random and clocks, the engine's code cached.
    wizerBin: request.wizer,
  });
  await writeFile(request.out, component);
  return { bytes: component.length };
}

try {
  const result = command === 'bundle' ? await bundle() : command === 'componentize' ? await componentize() : null;
  if (result === null) throw new Error(`unknown command \`${command}\``);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  if (error instanceof UserError) {
    process.stderr.write(error.message);
    process.exit(1);
  }
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(2);
}
