/**
 * The one table from flags to options. A command declares its flags as a
 * list of entries; from that list come the parser's spec, the help lines,
 * and the options object its entry point resolves (src/options/doors.ts),
 * each value checked by the option's own rule with the flag's text in the
 * message. A flag is an option's name in kebab case (flagName), so
 * `--max-map-count` is `maxMapCount` on every floor below.
 */
import { OPTIONS, type OptionName } from "../options/catalogue.js";
import { cliDoor, flagName } from "../options/door.js";
import { checkValue } from "../options/resolve.js";
import { parseCommandArgs, type OptionSpec } from "./args.js";

/** Flags that only the command line has: where output goes and how it is printed. */
const CLI_FLAGS = {
  json: { about: "machine-readable result on stdout, nothing else there (docs/json.md)" },
  report: {
    value: "FILE.html",
    about:
      "also write a self-contained HTML report (charts, parameters, machine), after the results are printed; FILE must be a regular file or a new path (a symlink is written through), never a file the run reads",
  },
  output: { value: "FILE", about: "the file to write" },
  once: { about: "print one snapshot and exit" },
  interval: { value: "SECONDS", about: "seconds between snapshots (default 2)" },
  alert: {
    value: "PERCENT",
    about: "a line on stderr when a process uses more than PERCENT of max_map_count (when it crosses it); with --once the exit status is then 3",
  },
  prometheus: {
    value: "[HOST:]PORT",
    about: "also serve the snapshots as Prometheus gauges at http://HOST:PORT/metrics (127.0.0.1 unless HOST is given; port 0: any free one, said on stderr)",
  },
  cmdline: { value: "'QEMU ARGS'", about: "a QEMU command line as one shell-quoted line" },
  allowFailures: { about: "custom workloads: exit 0 even when coroutine bodies threw (each failure is still listed); without it such a run exits 4" },
} as const satisfies Record<string, { value?: string; about: string }>;

export type CliFlagName = keyof typeof CLI_FLAGS;

export interface FlagEntry {
  /** The option's one name, or a flag of the command line's own. */
  name: OptionName | CliFlagName;
  short?: string;
  /** The value's placeholder in help (e.g. N, SIZE); absent: a flag without a value. */
  value?: string;
  /** This command's words for it (a default of its own); else the option's. */
  about?: string;
  /** Read but not listed in help: a flag that only gets a better refusal than "unknown option" (stress's --threads). */
  hidden?: boolean;
}

/** A flag read only to be refused with the reason (see FlagEntry.hidden). */
export function hiddenFlag(name: FlagEntry["name"], value?: string): FlagEntry {
  return { ...flag(name, value), hidden: true };
}

/** A flag entry: the option's name, and what this command says of it where it differs. */
export function flag(name: FlagEntry["name"], value?: string, about?: string, short?: string): FlagEntry {
  return { name, ...(value === undefined ? {} : { value }), ...(about === undefined ? {} : { about }), ...(short === undefined ? {} : { short }) };
}

export interface ReadFlags {
  /** The options the flags give, each already checked by its rule, under the options' names. */
  options: Record<string, unknown>;
  /** The command line's own flags. */
  json: boolean;
  once: boolean;
  /** The text of a flag of the command line's own that takes a value (--interval, --alert). */
  text: (name: CliFlagName) => string | undefined;
  report: string | undefined;
  output: string | undefined;
  allowFailures: boolean;
  help: boolean;
  positionals: string[];
}

/** Parses `argv` with the command's flag table; each option's value checked by its rule, named by its flag. */
export function readFlags(command: string, argv: string[], entries: readonly FlagEntry[], positionals: number): ReadFlags {
  const hidden = entries.filter((e) => e.hidden).map((e) => flagName(e.name));
  const parsed = parseCommandArgs(command, argv, parserSpec(entries), positionals, hidden);
  const options: Record<string, unknown> = {};
  for (const entry of entries) {
    const given = parsed.values[flagName(entry.name)];
    if (given === undefined || !(entry.name in OPTIONS)) continue;
    options[entry.name] = flagValue(command, entry.name as OptionName, given);
  }
  const text = (name: CliFlagName) => (typeof parsed.values[flagName(name)] === "string" ? (parsed.values[flagName(name)] as string) : undefined);
  return {
    options,
    json: parsed.values.json === true,
    once: parsed.values.once === true,
    text,
    report: text("report"),
    output: text("output"),
    allowFailures: parsed.values["allow-failures"] === true,
    help: parsed.values.help === true,
    positionals: parsed.positionals,
  };
}

/** The flags as node:util parseArgs takes them. */
export function parserSpec(entries: readonly FlagEntry[]): OptionSpec {
  return Object.fromEntries(entries.map((e) => [flagName(e.name), { type: valueOf(e) === undefined ? "boolean" : "string", ...(e.short ? { short: e.short } : {}) }]));
}

/** A flag's value (its text, or true for a switch) as option `name`, checked by the option's rule; refused naming the flag and the text. */
export function flagValue(command: string, name: OptionName, given: string | boolean): unknown {
  const value = typeof given === "boolean" ? given : OPTIONS[name].rule.fromText(given);
  return checkValue(cliDoor(command), name, value, given);
}

function valueOf(entry: FlagEntry): string | undefined {
  if (entry.value !== undefined) return entry.value;
  return entry.name in CLI_FLAGS ? (CLI_FLAGS[entry.name as CliFlagName] as { value?: string }).value : undefined;
}

function aboutOf(entry: FlagEntry): string {
  if (entry.about !== undefined) return entry.about;
  return entry.name in CLI_FLAGS ? CLI_FLAGS[entry.name as CliFlagName].about : OPTIONS[entry.name as OptionName].about;
}

/** Where the words of a help line start, and how wide a help text is. */
const HELP_COLUMN = 25;
const HELP_WIDTH = 94;

/** The "Options:" block of a command's help: one wrapped entry per flag, then -h. */
export function flagHelp(entries: readonly FlagEntry[]): string {
  const lines = entries.filter((e) => !e.hidden).map((e) => helpEntry(`--${flagName(e.name)}${valueOf(e) ? ` ${valueOf(e)}` : ""}${e.short ? ` (-${e.short})` : ""}`, aboutOf(e)));
  return [...lines, helpEntry("-h, --help", "this help")].join("\n");
}

function helpEntry(left: string, about: string): string {
  const head = `  ${left}`;
  const words = about.split(" ");
  const lines: string[] = [];
  let line = head.length < HELP_COLUMN - 1 ? head.padEnd(HELP_COLUMN) : `${head}\n${" ".repeat(HELP_COLUMN)}`;
  let lineStart = line.lastIndexOf("\n") + 1;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length - lineStart + word.length + 1 > HELP_WIDTH) {
      lines.push(line);
      line = " ".repeat(HELP_COLUMN);
      lineStart = 0;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}
