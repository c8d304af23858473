import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../errors.js";
import { POLICY_NAMES, isPolicyName, type PolicyName } from "../pools/policy-name.js";

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
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    throw new InputError("ERR_USAGE", `${command}: ${message.replace(/\. To specify a positional.*$/, "")}; see 'coropool ${command} --help'`);
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new InputError(
      "ERR_USAGE",
      `${command}: unexpected argument '${parsed.positionals[positionals]}'; see 'coropool ${command} --help'`,
    );
  }
  return parsed;
}

/** An integer flag within [min, max], or the default when absent. */
export function integerFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new InputError("ERR_USAGE", `bad value for --${name}: '${text}'; allowed: an integer from ${min} to ${max}`);
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1 << 20, g: 1 << 30 };

/** A byte size like 4096, 64k or 1m, a multiple of `multiple`, up to `max`. */
export function byteSizeFlag(name: string, value: unknown, multiple: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!(bytes > 0 && bytes % multiple === 0 && bytes <= max)) {
    throw new InputError("ERR_USAGE", `bad value for --${name}: '${text}'; allowed: a multiple of ${multiple} bytes up to ${max}, e.g. 64k or 1m`);
  }
  return bytes;
}

/** One policy name. */
export function policyFlag(value: unknown): PolicyName {
  const text = String(value);
  if (!isPolicyName(text)) {
    throw new InputError("ERR_USAGE", `bad value for --policy: '${text}'; allowed: ${POLICY_NAMES.join(", ")}`);
  }
  return text;
}

/** One policy or a comma list of them, each at most once. */
export function policyListFlag(value: unknown, fallback: PolicyName[]): PolicyName[] {
  if (value === undefined) return fallback;
  const names = String(value).split(",").map((s) => s.trim());
  const policies = names.map(policyFlag);
  const repeated = policies.find((p, i) => policies.indexOf(p) !== i);
  if (repeated) throw new InputError("ERR_USAGE", `bad value for --policy: '${String(value)}' names ${repeated} twice; list each policy once`);
  return policies;
}
