/**
 * A watch's sample as a versioned document: what `coropool watch --json`
 * prints, one a line (docs/watch.schema.json).
 */
import type { WatchedProcess, WatchSample } from "../host/watcher.js";
import { SCHEMA_VERSION } from "./document.js";

export interface WatchDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  command: "watch";
  time: string;
  maxMapCount: number;
  processes: WatchedProcess[];
}

export function watchDocument(sample: WatchSample): WatchDocument {
  return { schemaVersion: SCHEMA_VERSION, command: "watch", time: sample.time, maxMapCount: sample.maxMapCount, processes: sample.processes };
}
