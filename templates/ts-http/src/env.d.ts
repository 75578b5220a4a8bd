// What warp gives a component: `process.env` (and `import.meta.env`) read
// the deployment's environment (the run manifest's `env`). Declared here so
// `tsc --noEmit` checks the app without Node's types.
declare const process: { env: Record<string, string | undefined> };

interface ImportMeta {
  readonly env: Record<string, string | undefined>;
}
