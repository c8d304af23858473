/**
 * Resolving the options an entry point was handed: every key known (a typo
 * is refused with the nearest name), every value checked by its rule, a
 * deprecated name read as its new one. Nothing has run when this throws.
 */
import { CoropoolError, InputError } from "../errors.js";
import { MAX_SHOWN_CHARS, shownText } from "../message-text.js";
import { DEPRECATED_NAMES, OPTIONS, type OptionName, type OptionValue } from "./catalogue.js";
import { badOption, doorPrefix, isCli, optionLabel, shownValue, type Door } from "./door.js";
import { nearest } from "./nearest.js";
import { REFUSED } from "./rule.js";

/** The resolved options of a set of names: each checked value, or undefined where none was given. */
export type Resolved<N extends OptionName> = { [K in N]?: OptionValue<K> };

/**
 * The options `given` by the caller at `door`, each checked by its rule.
 * `names`: the options this entry point takes. Anything else is refused.
 */
export function resolveOptions<N extends OptionName>(door: Door, names: readonly N[], given: unknown): Resolved<N> {
  if (given === undefined) return {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new InputError("ERR_BAD_OPTION", `bad options ${shownValue(door, given)}; allowed: an object of options (${names.join(", ")})`);
  }
  const resolved: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    const name = knownName(door, names, key, given as Record<string, unknown>);
    const value = (given as Record<string, unknown>)[key];
    if (value === undefined) continue;
    resolved[name] = checkValue(door, name, value);
  }
  return resolved as Resolved<N>;
}

/**
 * One option's value checked by its rule; `shown` is what a refusal quotes,
 * as the caller wrote it (a flag's text, which `value` was read from).
 */
export function checkValue<N extends OptionName>(door: Door, name: N, value: unknown, shown: unknown = value): OptionValue<N> {
  const rule = OPTIONS[name].rule;
  const checked = rule.check(value);
  if (checked === REFUSED) throw badOption(door, name, shown, rule.allowed, rule.explain?.(value) ?? null);
  return checked as OptionValue<N>;
}

/** The option `key` names at this door, or the error naming the nearest one. */
function knownName<N extends OptionName>(door: Door, names: readonly N[], key: string, given: Record<string, unknown>): N {
  if ((names as readonly string[]).includes(key)) return key as N;
  const renamed = Object.hasOwn(DEPRECATED_NAMES, key) ? DEPRECATED_NAMES[key] : undefined;
  if (renamed !== undefined && (names as readonly string[]).includes(renamed)) {
    if (Object.hasOwn(given, renamed)) {
      throw new InputError("ERR_BAD_OPTION", `${key} and ${renamed} together: ${key} is the old name of ${renamed}; give ${renamed} only`);
    }
    warnDeprecated(door, key, renamed);
    return renamed as N;
  }
  throw unknownOption(door, key, names);
}

/** "unknown option maxMapCont; did you mean maxMapCount? allowed: …" */
export function unknownOption(door: Door, key: string, names: readonly string[]): InputError {
  const labels = names.map((n) => optionLabel(door, n));
  const shown = shownText(key, MAX_SHOWN_CHARS);
  const guess = nearest(key, isCli(door) ? labels : names);
  const hint = guess === null ? "" : ` did you mean ${guess}?`;
  return new InputError("ERR_UNKNOWN_OPTION", `${doorPrefix(door)}unknown option ${shown};${hint} allowed: ${labels.join(", ")}`);
}

const warned = new Set<string>();

/** Once a process per old name: programs see what to rename, logs are not flooded. */
function warnDeprecated(door: Door, old: string, renamed: string): void {
  if (warned.has(old)) return;
  warned.add(old);
  process.emitWarning(`${doorPrefix(door)}the option ${old} is deprecated; use ${renamed} (${old} goes in coropool 0.3.0)`, {
    type: "DeprecationWarning",
    code: "COROPOOL_DEP_OPTION_NAME",
  });
}

/** Two options that say the same thing two ways: the caller gives one. */
export function refuseBoth(door: Door, a: OptionName, b: OptionName, why: string): never {
  throw new InputError("ERR_BAD_OPTION", `${optionLabel(door, a)} and ${optionLabel(door, b)} together; ${why}`);
}

/** An option an entry point needs and was not given. */
export function missingOption(door: Door, name: OptionName, allowed: string): never {
  throw new InputError("ERR_MISSING_OPTION", `${doorPrefix(door)}missing ${optionLabel(door, name)}; allowed: ${allowed}`);
}

/** Thrown for anything an entry point is handed that is not its input at all (the first argument). */
export function badArgument(door: Door, what: string, value: unknown, allowed: string): CoropoolError {
  return new InputError("ERR_BAD_ARGUMENT", `${doorPrefix(door)}bad ${what} ${shownValue(door, value)}; allowed: ${allowed}`);
}
