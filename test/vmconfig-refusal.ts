import { expect } from "vitest";

/** The one line of bad input `fn` throws, checked to be an InputError; fails when it throws nothing. */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect((error as Error).name).toBe("InputError");
    return (error as Error).message;
  }
  throw new Error("no refusal");
}
