/**
 * How a conformance suite reaches one backend. Each suite calls the backend's
 * `open()` once per test and expects an empty store (fresh file, database or
 * schema), so tests never see each other's keys or topics.
 */
export interface StoreHarness<T> {
  /** The store as last opened (updated by `reopen`). */
  store: T;
  /** Closes the store and opens the same underlying data again (a hub restart). */
  reopen(): Promise<T>;
  /** Closes the store and removes its data. */
  destroy(): Promise<void>;
}
