// Bun has Node's `Buffer` as a global; so does its component when the
// bundle names `Buffer` (Bun's bundler's browser version of `node:buffer`).
import { Buffer } from 'node:buffer';

globalThis.Buffer ??= Buffer;
