import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { nearest } from "../options/nearest.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs with its errors turned into one-line input errors that
 * name the bad argument and what the command accepts.
 */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `unlisted`: flags read but not offered in "allowed" (they exist only to be refused with a reason). */
export function parseCommandArgs(command: string, argv: string[], options: OptionSpec, positionals: number, unlisted: readonly string[] = []): ParsedArgs {
  const spec: OptionSpec = { ...options, help: { type: "boolean", short: "h" } };
  let parsed: ParsedArgs;
  try {
    const args = withValuesJoined(command, argv, spec);
    const { values, positionals, tokens } = parseArgs({ args, options: spec, allowPositionals: true, strict: true, tokens: true });
    refuseRepeated(command, tokens);
    parsed = { values, positionals } as ParsedArgs;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError("ERR_USAGE", `${command}: ${describeParseError(err, spec, unlisted)}; see 'coropool ${command} --help'`);
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new InputError(
      "ERR_USAGE",
      `${command}: unexpected argument '${shownArg(parsed.positionals[positionals]!)}'; see 'coropool ${command} --help'`,
    );
  }
  return parsed;
}

/**
 * A flag given twice is refused: parseArgs keeps only the last, so
 * `--policy legacy --policy batched` would run batched alone without a word.
 */
function refuseRepeated(command: string, tokens: { kind: string; name?: string; rawName?: string }[]): void {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.name === undefined) continue;
    if (seen.has(token.name)) {
      const list = token.name === "policy" ? " (a comma list runs several: --policy legacy,batched)" : "";
      throw new InputError("ERR_USAGE", `${command}: --${token.name} is given twice; give it once${list}; see 'coropool ${command} --help'`);
    }
    seen.add(token.name);
  }
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
function describeParseError(err: unknown, spec: OptionSpec, unlisted: readonly string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const unknown = /^Unknown option '(.*?)'(?:\. To specify a positional argument|$)/s.exec(message);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
    const listed = Object.entries(spec).filter(([name]) => !unlisted.includes(name));
    const allowed = listed.map(([name, o]) => (o.short ? `--${name} (-${o.short})` : `--${name}`));
    const word = unknown[1]!.replace(/=.*$/s, "");
    const guess = nearest(word, listed.map(([name]) => `--${name}`));
    return `unknown option ${shownArg(word)};${guess === null ? "" : ` did you mean ${guess}?`} allowed: ${allowed.join(", ")}`;
  }
  return shownArg(message.split("\n")[0]!.replace(/\.$/, ""));
}

/** A user's argument as a message shows it: control characters escaped, long text cut. */
export function shownArg(text: string): string {
  return shownText(text, MAX_SHOWN_CHARS);
}
