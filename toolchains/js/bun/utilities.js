// Bun's utilities for the component (bun/utils.js), put on the `Bun` global
// runtime.js made: bundled by warp-bun.mjs only when the app uses one.
import { CryptoHasher, deepEquals, escapeHTML, hash, password } from './utils.js';

Object.assign(globalThis.Bun, { hash, CryptoHasher, password, deepEquals, escapeHTML });
