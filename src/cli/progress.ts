/**
 * A one-line progress bar on stderr, drawn only when stdout is a terminal (so
 * piped or --json output is never mixed with it).
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    enabled = process.stdout.isTTY === true,
  ) {
    this.enabled = enabled && total > 0;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const width = 30;
    const fraction = Math.min(1, done / this.total);
    const filled = Math.round(fraction * width);
    process.stderr.write(`\r${this.label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${Math.round(fraction * 100)}%`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) process.stderr.write("\r\x1b[2K");
    this.drawn = false;
  }
}

/**
 * An experiment's progress as bars: one bar per step ("stress (legacy)"),
 * the last one cleared when the step changes and when the command ends.
 */
export class StepProgress {
  private bar: ProgressBar | null = null;
  private step = "";

  constructor(private readonly enabled = process.stdout.isTTY === true) {}

  /** The experiments' progress callback. */
  readonly onProgress = (done: number, total: number | undefined, step: string): void => {
    if (this.bar === null || step !== this.step) {
      this.bar?.finish();
      this.bar = new ProgressBar(step, total ?? 0, this.enabled);
      this.step = step;
    }
    this.bar.update(done);
  };

  finish(): void {
    this.bar?.finish();
    this.bar = null;
  }
}
