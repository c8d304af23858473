#!/usr/bin/env node
import { Interrupt } from "./interrupt.js";
import { main } from "./main.js";

/** A reader that went away: what is left to write is dropped. */
const READER_GONE = ["EPIPE", "ERR_STREAM_DESTROYED"];

// `coropool demo --json | head -c 10` ends quietly, never with a stack trace;
// any other failure to write the output is one line and an internal error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (READER_GONE.includes(err.code ?? "")) return;
    if (stream !== process.stderr) process.stderr.write(`coropool: internal error: cannot write the output (${err.code ?? err.message})\n`);
    process.exitCode = 1;
  });
}

const interrupt = new Interrupt();
interrupt.install();

main(process.argv.slice(2), process.stdout, process.stderr, interrupt).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`coropool: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
