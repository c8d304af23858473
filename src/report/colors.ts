/**
 * The colours of every report picture, in one place: each pool policy's own
 * colour (one definition, drawn as a hex colour in the HTML charts and as an
 * ANSI colour in the terminal chart, so a policy looks the same in both), and
 * the colours of threads, limits and the shared pool.
 */
import * as asciichart from "asciichart";
import type { PolicyName } from "../pools/index.js";

/** One colour as each picture draws it; `name` is how the terminal's legend says it. */
export interface Color {
  name: string;
  html: string;
  ansi: string;
}

const RED: Color = { name: "red", html: "#c0392b", ansi: asciichart.red };
const BLUE: Color = { name: "blue", html: "#1f6fb4", ansi: asciichart.blue };
const YELLOW: Color = { name: "yellow", html: "#b8860b", ansi: asciichart.yellow };
const GREEN: Color = { name: "green", html: "#2e8b57", ansi: asciichart.green };
const MAGENTA: Color = { name: "magenta", html: "#8e44ad", ansi: asciichart.magenta };
const CYAN: Color = { name: "cyan", html: "#17becf", ansi: asciichart.cyan };

/** Every policy of the registry has its own (the type makes a new policy name one). */
export const POLICY_COLORS: Readonly<Record<PolicyName, Color>> = { legacy: RED, batched: BLUE, none: YELLOW, elastic: GREEN };

/** For a policy this build does not know (a saved document from another build), by its place. */
const OTHER_COLORS: readonly Color[] = [MAGENTA, CYAN];

/** A policy's colour: its own, the same on every page and in the terminal; else one by its place among the runs. */
export function policyColor(policy: string, index: number): Color {
  return Object.hasOwn(POLICY_COLORS, policy) ? POLICY_COLORS[policy as PolicyName] : OTHER_COLORS[index % OTHER_COLORS.length]!;
}

/** A policy's colour on an HTML page. */
export function policyHtmlColor(policy: string, index: number): string {
  return policyColor(policy, index).html;
}

/** Threads in a chart of per-thread pools (a thread is no policy: these do not say one). */
export const THREAD_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
/** A limit or bound drawn as a rule across a chart. */
export const LIMIT_COLOR = "#111111";
/** The shared (global) pool, dashed, beside the threads' own pools. */
export const GLOBAL_POOL_COLOR = "#000000";
/** The limit line in the terminal chart. */
export const LIMIT_ANSI = asciichart.darkgray;
export const ANSI_RESET = asciichart.reset;
