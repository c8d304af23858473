/**
 * How unevenly stacks sit in per-thread pools. A pool design that lets one
 * thread hoard stacks shows a high max/mean and a Gini coefficient near 1;
 * an even spread gives 1 and 0.
 */

/** Gini coefficient of non-negative values: 0 when all equal, (n-1)/n when one holds all. */
export function gini(values: number[]): number {
  const n = values.length;
  const total = values.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  // G = sum_i (2i - n - 1) x_i / (n * sum x), i from 1, x ascending.
  let weighted = 0;
  for (let i = 0; i < n; i++) weighted += (2 * (i + 1) - n - 1) * sorted[i]!;
  return weighted / (n * total);
}

/** Largest value over the mean; 0 when everything is 0. */
export function maxOverMean(values: number[]): number {
  const total = values.reduce((a, b) => a + b, 0);
  if (values.length === 0 || total === 0) return 0;
  return Math.max(...values) / (total / values.length);
}
