/**
 * Imported first by main.ts, before any other module loads. tsx turns Node's source maps
 * on; then every module's inline map is parsed as it loads (the AWS provider's run to
 * megabytes) and each of the stack traces cdktf records for every token is mapped back
 * to TypeScript. Synth never shows them, and they cost about a fifth of its time.
 */
process.setSourceMapsEnabled(false);
