/**
 * What coropool reads from a path (a scenario file, a trace or log, a saved
 * result) must be a regular file within a size limit, checked before it is
 * opened: opening a FIFO with no writer would block forever, and a device
 * such as /dev/zero never ends. The check only stats the path (following a
 * symlink), so it never blocks.
 */
import { statSync, type Stats } from "node:fs";

/**
 * Why `path` cannot be read as an input file, or null when the reader may
 * open it: a path that exists but is neither a regular file nor a folder
 * (what it is), or a file larger than `maxBytes`. A missing or unreadable
 * path, or a folder, is left to the reader, whose own error names it.
 */
export function inputFileProblem(path: string, maxBytes = Infinity): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return null;
  }
  if (stats.isDirectory()) return null;
  if (!stats.isFile()) return `it is ${fileKind(stats)}, not a regular file`;
  if (stats.size > maxBytes) return `it is ${stats.size} bytes, more than the ${maxBytes} allowed`;
  return null;
}

/** What a path that is not a regular file is, for a message. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSymbolicLink()) return "a symlink";
  return "a special file";
}
