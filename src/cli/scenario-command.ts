/**
 * The one shape of every command that runs a scenario (stress, imbalance,
 * randread, run): read the flags through the flag table, answer --help,
 * read the scenario file (a bundled one by default), check its kind, apply
 * the command's own flags, resolve the run's options as run() does (the
 * same door code), check the --report path, run the experiment, then print
 * its text or JSON and exit with the status its runs earned. Each command
 * says only what is its own.
 */
import { InputError } from "../errors.js";
import { BUNDLED_SCENARIOS, bundledPath, bundledOrPath } from "../experiments/bundled.js";
import type { ThreadedExperimentOptions } from "../experiments/options.js";
import { cliDoor } from "../options/door.js";
import { resolveRunOptions, RUN_OPTIONS } from "../options/doors.js";
import { checkOptionsFitScenario, type RunPlace } from "../options/scenario-fit.js";
import type { PolicyName } from "../pools/index.js";
import type { ResultDocument } from "../report/document.js";
import type { Scenario } from "../scenarios/types.js";
import { scenarioInputFiles } from "../scenarios/registry.js";
import { loadScenarioFile } from "../scenarios/validate.js";
import { commandOutput, reportPathFlag } from "./command-output.js";
import { EXIT, type CommandResult } from "./exit.js";
import { readFlags, type FlagEntry, type ReadFlags } from "./flag-table.js";
import { Interrupt } from "./interrupt.js";
import { withProgress } from "./runtime-flags.js";

/** What a command's experiment produced: the document for --json and --report, its text, the exit status. */
export interface CommandOutcome {
  document: ResultDocument;
  text: () => string;
  exitCode: number;
  /** One line for stderr (which thread died and why), when the runs earned one. */
  stderr?: string;
}

export interface ScenarioCommand<S extends Scenario> {
  name: string;
  help: string;
  /** The kind of scenario the command runs; undefined: any kind. */
  kind?: S["kind"];
  /**
   * The bundled scenario run without --scenario; undefined: the scenario is
   * the command's one argument instead (and --scenario is refused).
   */
  defaultScenario?: string;
  defaultPolicies: PolicyName[];
  /** Every flag the command takes, in help order. */
  flags: readonly FlagEntry[];
  /** The command's own flags applied to the scenario, after its kind was checked (their values already checked). */
  prepare?(scenario: S, flags: ReadFlags): S;
  /** The policies when --policy is not given, where the scenario decides them (else defaultPolicies). */
  policiesFor?(scenario: S): PolicyName[] | undefined;
  /** Where real stacks are mapped under --backend kernel (stress: in children, up to the host's real limit). */
  runPlace?: RunPlace;
  /** Runs the experiment (the --report path is already checked). */
  execute(scenario: S, file: string, options: ThreadedExperimentOptions, flags: ReadFlags): Promise<CommandOutcome>;
}

/** The command line function of a scenario command. */
export function scenarioCommand<S extends Scenario>(command: ScenarioCommand<S>): (argv: string[], interrupt?: Interrupt) => Promise<CommandResult> {
  return async (argv, interrupt = new Interrupt()) => {
    const { name } = command;
    const takesArgument = command.defaultScenario === undefined;
    const flags = readFlags(name, argv, command.flags, takesArgument ? 1 : 0);
    if (flags.help) return { stdout: command.help, exitCode: EXIT.OK };
    const { scenario: scenarioFlag } = flags.options;
    // The run's options go to the door run() uses; the command's own (--rounds, --iodepths, …) change the scenario in prepare().
    const given = Object.fromEntries(Object.entries(flags.options).filter(([name]) => (RUN_OPTIONS as readonly string[]).includes(name)));
    const file = takesArgument ? scenarioArgument(name, flags.positionals, scenarioFlag) : scenarioFile(scenarioFlag, command.defaultScenario!);
    const door = cliDoor(name);
    const resolved = resolveRunOptions(door, given);
    const loaded = ofKind(name, command.kind, loadScenarioFile(file));
    const scenario = command.prepare ? command.prepare(loaded, flags) : loaded;
    const options = { ...resolved, policies: resolved.policies ?? command.policiesFor?.(scenario) ?? command.defaultPolicies };
    checkOptionsFitScenario(door, scenario, options, command.runPlace);
    const reportPath = reportPathFlag(flags.report, scenarioInputFiles(scenario, file));
    const signal = interrupt.stopsGracefully();
    const outcome = await withProgress({ ...options, signal }, flags.json, (o) => command.execute(scenario, file, o, flags));
    return {
      ...commandOutput(outcome.document, outcome.text, flags.json, reportPath, signal),
      exitCode: outcome.exitCode,
      ...(outcome.stderr === undefined ? {} : { stderr: outcome.stderr }),
    };
  };
}

/** The scenario given as the command's argument (a bundled name or a path). */
function scenarioArgument(command: string, positionals: string[], scenarioFlag: unknown): string {
  const value = positionals[0];
  if (scenarioFlag !== undefined) throw new InputError("ERR_USAGE", `${command}: give the scenario as the argument, not with --scenario`);
  if (value === undefined) throw new InputError("ERR_USAGE", `${command}: missing the SCENARIO file; see 'coropool ${command} --help'`);
  return bundledOrPath(BUNDLED_SCENARIOS, value, command);
}

/** --scenario's file (a bundled name resolved), or the command's bundled default. */
function scenarioFile(flag: unknown, defaultScenario: string): string {
  return typeof flag === "string" ? bundledOrPath(BUNDLED_SCENARIOS, flag, "--scenario") : bundledPath(BUNDLED_SCENARIOS, defaultScenario);
}

function ofKind<S extends Scenario>(command: string, kind: S["kind"] | undefined, scenario: Scenario): S {
  if (kind !== undefined && scenario.kind !== kind) {
    throw new InputError("ERR_USAGE", `${command}: the scenario is of kind '${scenario.kind}'; ${command} needs kind '${kind}' (or use 'coropool run FILE')`);
  }
  return scenario as S;
}
