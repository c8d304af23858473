/**
 * A QEMU command line as QEMU itself reads it: the argv (from an array, from
 * /proc/PID/cmdline's NUL-separated text, or from one shell-quoted line as
 * libvirt's logs and Proxmox's `qm showcmd` print it), split into options by
 * name, each option's argument split the way QEMU splits it.
 *
 * QEMU has two argument syntaxes and this file reads both:
 * - key=value lists (QemuOpts and keyval): `,` separates, `,,` is a literal
 *   comma, and a first item with no `=` is the option's implied key
 *   (`-machine pc-q35-7.2` is type=pc-q35-7.2, `-smp 4` is cpus=4);
 * - JSON, which libvirt writes for -device, -object and -blockdev
 *   (`-device '{"driver":"virtio-blk-pci",…}'`): nested objects become
 *   dotted keys (`file.filename`), as keyval names them.
 */
import { parse as shellParse } from "shell-quote";
import { InputError } from "../errors.js";
import { isQemuSystemEmulator } from "./qemu-binary.js";

/** One option of the command line: `-device virtio-blk-pci,drive=d0` is name "device". */
export interface QemuOption {
  /** The option's name without its dashes. */
  readonly name: string;
  /** The argument as written (empty for a flag that takes none). */
  readonly raw: string;
  /** The argument's keys and values, dotted keys for nested JSON or keyval. */
  readonly props: Readonly<Record<string, string>>;
  /** The argument parsed as JSON when it was written as JSON, else null. */
  readonly json: Readonly<Record<string, unknown>> | null;
}

export interface QemuCommandLine {
  /** argv[0]: the emulator as named on the command line. */
  readonly emulator: string;
  readonly options: readonly QemuOption[];
}

/**
 * Options that take no argument. Every other option takes exactly one, as
 * in QEMU's qemu-options.hx (HAS_ARG); this is the list of the ones without.
 */
const FLAGS = new Set([
  "S", "s", "nographic", "enable-kvm", "no-kvm", "no-user-config", "nodefaults", "nodefconfig",
  "no-shutdown", "no-reboot", "daemonize", "snapshot", "no-hpet", "no-acpi", "full-screen",
  "no-fd-bootchk", "no-quit", "win2k-hack", "rtc-td-hack", "localtime", "usb", "preconfig",
  "only-migratable", "enable-fips", "no-frame", "alt-grab", "ctrl-grab", "version", "help", "h",
  "semihosting", "enable-sync-profile", "old-param", "xen-attach", "no-kvm-irqchip", "no-kvm-pit",
  "no-kvm-pit-reinjection", "no-graphic", "curses", "portrait", "singlestep", "perfmap",
]);

/** The key an option's first item names when it has no `=` (QemuOptsList.implied_opt_name). */
const IMPLIED_KEY: Readonly<Record<string, string>> = {
  machine: "type",
  M: "type",
  smp: "cpus",
  device: "driver",
  object: "qom-type",
  name: "guest",
  netdev: "type",
  accel: "accel",
  cpu: "model",
  m: "size",
  chardev: "backend",
  boot: "order",
};

/** Options whose argument is one plain value, never a key=value list. */
const PLAIN_ARGUMENT = new Set(["kernel", "initrd", "append", "bios", "pidfile", "L", "loadvm", "incoming", "runas", "chroot", "cpu", "k", "uuid", "hda", "hdb", "hdc", "hdd", "cdrom", "fda", "fdb"]);

/** A QEMU command line from its argv. */
export function parseQemuArgv(argv: readonly string[]): QemuCommandLine {
  const words = dropEnvironment(argv);
  const emulator = words[0];
  if (emulator === undefined || !isQemuSystemEmulator(emulator)) {
    throw new InputError("ERR_NOT_QEMU", `not a QEMU command line: it starts with ${JSON.stringify(emulator ?? "")}; allowed: a command whose program is qemu-system-*, qemu-kvm or kvm`);
  }
  return { emulator, options: parseQemuOptions(words.slice(1)) };
}

/** The options of a command line without its program (what libvirt's <qemu:commandline> holds). */
export function parseQemuOptions(words: readonly string[]): QemuOption[] {
  const options: QemuOption[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith("-") || word === "-") {
      // A lone word is QEMU's legacy disk image argument (`qemu disk.img`).
      options.push(option("hda", word));
      continue;
    }
    const name = word.replace(/^--?/, "");
    if (FLAGS.has(name)) {
      options.push({ name, raw: "", props: {}, json: null });
      continue;
    }
    const argument = words[i + 1];
    if (argument === undefined) {
      throw new InputError("ERR_QEMU_ARGS", `bad QEMU command line: ${word} has no argument; allowed: ${word} followed by its value`);
    }
    options.push(option(name, argument));
    i++;
  }
  return options;
}

/** A command line from /proc/PID/cmdline's bytes: arguments separated (and ended) by NUL. */
export function parseQemuCmdlineNul(text: string): QemuCommandLine {
  const argv = text.split("\0");
  if (argv.at(-1) === "") argv.pop();
  return parseQemuArgv(argv);
}

/**
 * A command line from one shell-quoted line, as libvirt's per-domain log and
 * Proxmox's `qm showcmd` print it. Backslash-newline continues the line;
 * `$NAME` stays as written (nothing is expanded); anything a shell would
 * treat as an operator (a pipe, a redirection) is not a command line.
 */
export function parseQemuShellLine(line: string): QemuCommandLine {
  const joined = line.replace(/\\\r?\n/g, " ").trim();
  const tokens = shellParse(joined, (key) => `$${key}`);
  const argv = tokens.map((token) => {
    if (typeof token === "string") return token;
    if ("op" in token && token.op === "glob") return token.pattern;
    const shown = "op" in token ? token.op : "comment" in token ? `#${token.comment}` : String(token);
    throw new InputError("ERR_QEMU_ARGS", `bad QEMU command line: the shell operator ${JSON.stringify(shown)} in it; allowed: one command with its arguments`);
  });
  return parseQemuArgv(argv);
}

/** The command line from text: NUL-separated when it holds a NUL, else one shell-quoted line. */
export function parseQemuCommandText(text: string): QemuCommandLine {
  return text.includes("\0") ? parseQemuCmdlineNul(text) : parseQemuShellLine(text);
}

/** Leading `NAME=value` words: the environment libvirt's log prints before the program. */
function dropEnvironment(argv: readonly string[]): readonly string[] {
  let i = 0;
  while (i < argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]!)) i++;
  return argv.slice(i);
}

function option(name: string, raw: string): QemuOption {
  if (PLAIN_ARGUMENT.has(name)) return { name, raw, props: { [IMPLIED_KEY[name] ?? "value"]: raw }, json: null };
  if (raw.startsWith("{")) {
    const json = parseJsonArgument(name, raw);
    return { name, raw, props: flattenJson(json), json };
  }
  return { name, raw, props: parseKeyValueList(raw, IMPLIED_KEY[name] ?? null), json: null };
}

function parseJsonArgument(name: string, raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new InputError("ERR_QEMU_ARGS", `bad -${name} argument ${JSON.stringify(raw)}: ${(error as Error).message}; allowed: key=value,… or one JSON object`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError("ERR_QEMU_ARGS", `bad -${name} argument ${JSON.stringify(raw)}; allowed: key=value,… or one JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Nested objects and arrays as dotted keys (`file.filename`, `iothread-vq-mapping.0.iothread`), leaves as text. */
export function flattenJson(value: Record<string, unknown>, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const path = prefix + key;
    if (item !== null && typeof item === "object") Object.assign(out, flattenJson(item as Record<string, unknown>, `${path}.`));
    else out[path] = typeof item === "boolean" ? (item ? "on" : "off") : String(item);
  }
  return out;
}

/**
 * QEMU's key=value list: items split on `,` except `,,`, which is a comma in
 * the value; the first item without `=` names `impliedKey` (when the option
 * has one); any other item without `=` is a flag set to on.
 */
export function parseKeyValueList(text: string, impliedKey: string | null): Record<string, string> {
  const props: Record<string, string> = {};
  splitItems(text).forEach((item, index) => {
    if (item === "") return;
    const eq = item.indexOf("=");
    if (eq < 0) {
      if (index === 0 && impliedKey) props[impliedKey] = item;
      else props[item] = "on";
      return;
    }
    props[item.slice(0, eq)] = item.slice(eq + 1);
  });
  return props;
}

/** Items separated by single commas; `,,` stays in the item as one comma. */
function splitItems(text: string): string[] {
  const items: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "," && text[i + 1] === ",") {
      current += ",";
      i++;
    } else if (c === ",") {
      items.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  items.push(current);
  return items;
}
