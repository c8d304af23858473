/**
 * One point of a downsampled series: where its bucket starts, the least and
 * most value in it, and the value it ended with (held until the next bucket:
 * a chart steps, it does not slope across a quiet stretch).
 */
export type SeriesPoint = [x: number, min: number, max: number, last: number];

/** Buckets a series keeps at most; twice this before two neighbours are merged. */
export const DEFAULT_SERIES_BUCKETS = 2000;

/**
 * A series of any length kept in at most 2 × `buckets` buckets, each with
 * the least and the most value seen in it, so a chart still shows every
 * spike and every dip (a mean or a sample would hide a peak). When the
 * buckets run out, neighbours merge and the bucket width doubles: the width
 * need not be known in advance, as it cannot be for a streamed log.
 */
export class MinMaxSeries {
  private width = 1;
  private origin = NaN;
  private min: number[] = [];
  private max: number[] = [];
  private last: number[] = [];

  constructor(private readonly buckets = DEFAULT_SERIES_BUCKETS) {}

  add(x: number, value: number): void {
    if (Number.isNaN(this.origin)) this.origin = x;
    let b = Math.max(0, Math.floor((x - this.origin) / this.width));
    while (b >= 2 * this.buckets) {
      this.mergeNeighbours();
      b = Math.floor((x - this.origin) / this.width);
    }
    while (this.min.length <= b) {
      this.min.push(NaN);
      this.max.push(NaN);
      this.last.push(NaN);
    }
    if (!(value >= this.min[b]!)) this.min[b] = value;
    if (!(value <= this.max[b]!)) this.max[b] = value;
    this.last[b] = value;
  }

  /** The non-empty buckets, in order; `scale` turns x into the unit the caller shows. */
  points(scale = 1): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    for (let b = 0; b < this.min.length; b++) {
      if (!Number.isNaN(this.min[b]!)) points.push([(this.origin + b * this.width) * scale, this.min[b]!, this.max[b]!, this.last[b]!]);
    }
    return points;
  }

  private mergeNeighbours(): void {
    const min: number[] = [];
    const max: number[] = [];
    const last: number[] = [];
    for (let b = 0; b < this.min.length; b += 2) {
      min.push(lesser(this.min[b]!, this.min[b + 1]));
      max.push(greater(this.max[b]!, this.max[b + 1]));
      last.push(later(this.last[b]!, this.last[b + 1]));
    }
    this.min = min;
    this.max = max;
    this.last = last;
    this.width *= 2;
  }
}

/** The lesser of two bucket values, NaN meaning empty. */
function lesser(a: number, b: number | undefined): number {
  if (b === undefined || Number.isNaN(b)) return a;
  return Number.isNaN(a) || b < a ? b : a;
}

function greater(a: number, b: number | undefined): number {
  if (b === undefined || Number.isNaN(b)) return a;
  return Number.isNaN(a) || b > a ? b : a;
}

/** The value a merged bucket ends with: the later bucket's, unless it is empty. */
function later(a: number, b: number | undefined): number {
  return b === undefined || Number.isNaN(b) ? a : b;
}
