/** Public API of the coroutine runtime: generator-based coroutines whose stacks come from a pool. */
export { CoroutineContext } from './context.js';
export { LEADER_ID, NO_STACK } from './coroutine.js';
export type { Coroutine, CoroutineEntry, CoroutineState } from './coroutine.js';
export { CoroutineError, CoroutineErrorCode } from './errors.js';
export type { StackSource } from './stack-source.js';
