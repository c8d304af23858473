/**
 * Many tests run the CLI with spawnSync, which blocks this test worker's
 * event loop; between synchronous tests vitest yields only to microtasks. Its
 * RPC replies from the main process (macrotasks) then wait behind a 60 s
 * timer that fires first ("Timeout calling onTaskUpdate") once a file's
 * synchronous tests add up to a minute. A full event-loop turn after every
 * test lets those replies in.
 */
import { afterEach } from "vitest";

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
