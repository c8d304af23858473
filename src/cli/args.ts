import { formatByteSize, parseByteSize } from "../byte-size.js";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { POLICY_NAMES, isPolicyName, type PolicyName } from "../pools/index.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs with its errors turned into one-line input errors that
 * name the bad argument and what the command accepts.
 */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: string, argv: string[], options: OptionSpec, positionals: number): ParsedArgs {
  const spec: OptionSpec = { ...options, help: { type: "boolean", short: "h" } };
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: withValuesJoined(command, argv, spec), options: spec, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError("ERR_USAGE", `${command}: ${describeParseError(err, spec)}; see 'coropool ${command} --help'`);
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new InputError(
      "ERR_USAGE",
      `${command}: unexpected argument '${shownArg(parsed.positionals[positionals]!)}'; see 'coropool ${command} --help'`,
    );
  }
  return parsed;
}

/** A word that starts with a dash and a digit is a (negative) number, so a value, never an option. */
const NEGATIVE_NUMBER = /^-\d/;

/**
 * Gives every flag that takes a value its value as `--name=value`. parseArgs
 * refuses `--seed -1` as "ambiguous" (the value starts with '-'), which names
 * neither the value nor what is allowed; joined, the flag's own check refuses
 * -1 with the range it allows. A word like `--json` after a flag that needs a
 * value means the value is missing, and is said so.
 */
function withValuesJoined(command: string, argv: string[], spec: OptionSpec): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      joined.push(...argv.slice(i));
      break;
    }
    const name = valueOptionName(word, spec);
    if (name === undefined) {
      joined.push(word);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || (value.length > 1 && value.startsWith("-") && !NEGATIVE_NUMBER.test(value))) {
      const why = value === undefined ? "" : ` ('${shownArg(value)}' is an option; write --${name}=VALUE for a value that starts with '-')`;
      throw new InputError("ERR_USAGE", `${command}: missing the value of ${word}${why}; see 'coropool ${command} --help'`);
    }
    joined.push(`--${name}=${value}`);
    i++;
  }
  return joined;
}

/** The long name of a flag that takes a value, when `word` is that flag without `=value`. */
function valueOptionName(word: string, spec: OptionSpec): string | undefined {
  const long = /^--([^=]+)$/.exec(word);
  if (long) return spec[long[1]!]?.type === "string" ? long[1] : undefined;
  const short = /^-([^-])$/.exec(word);
  if (!short) return undefined;
  const entry = Object.entries(spec).find(([, o]) => o.short === short[1]);
  return entry && entry[1].type === "string" ? entry[0] : undefined;
}

/** parseArgs' own errors, reworded to one line that names the argument and what is allowed. */
function describeParseError(err: unknown, spec: OptionSpec): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const unknown = /^Unknown option '(.*?)'(?:\. To specify a positional argument|$)/s.exec(message);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
    const allowed = Object.entries(spec).map(([name, o]) => (o.short ? `--${name} (-${o.short})` : `--${name}`));
    return `Unknown option '${shownArg(unknown[1]!)}'; allowed: ${allowed.join(", ")}`;
  }
  return shownArg(message.split("\n")[0]!.replace(/\.$/, ""));
}

/** A user's argument as a message shows it: control characters escaped, long text cut. */
export function shownArg(text: string): string {
  return shownText(text, MAX_SHOWN_CHARS);
}

/** An integer flag within [min, max], or the default when absent. */
export function integerFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new InputError("ERR_USAGE", `bad value for --${name}: '${shownArg(text)}'; allowed: an integer from ${min} to ${max}`);
  }
  return n;
}

/** A byte size like 4096, 64k or 1m, a multiple of `multiple`, up to `max`. */
export function byteSizeFlag(name: string, value: unknown, multiple: number, max: number, examples = "64k or 1m"): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const bytes = parseByteSize(text);
  if (bytes === null || bytes % multiple !== 0 || bytes > max) {
    throw new InputError("ERR_USAGE", `bad value for --${name}: '${shownArg(text)}'; allowed: a multiple of ${multiple} bytes up to ${formatByteSize(max)}, e.g. ${examples}`);
  }
  return bytes;
}

/** The policies in words, for help texts: "legacy, batched, none or elastic". */
export const POLICY_CHOICES = `${POLICY_NAMES.slice(0, -1).join(", ")} or ${POLICY_NAMES[POLICY_NAMES.length - 1]}`;

/** One policy name. */
export function policyFlag(value: unknown): PolicyName {
  const text = String(value);
  if (!isPolicyName(text)) {
    throw new InputError("ERR_USAGE", `bad value for --policy: '${shownArg(text)}'; allowed: ${POLICY_NAMES.join(", ")}`);
  }
  return text;
}

/** One policy or a comma list of them, each at most once. */
export function policyListFlag(value: unknown, fallback: PolicyName[]): PolicyName[] {
  if (value === undefined) return fallback;
  const text = String(value);
  const names = text.split(",").map((s) => s.trim());
  // An empty item ("legacy,", ",batched") is shown with its whole list: '' alone would not say where it is.
  if (names.length > 1 && names.includes("")) {
    throw new InputError("ERR_USAGE", `bad value for --policy: '${shownArg(text)}' has an empty item; allowed: ${POLICY_NAMES.join(", ")} or a comma list of them`);
  }
  const policies = names.map(policyFlag);
  const repeated = policies.find((p, i) => policies.indexOf(p) !== i);
  if (repeated) throw new InputError("ERR_USAGE", `bad value for --policy: '${shownArg(text)}' names ${repeated} twice; list each policy once`);
  return policies;
}
