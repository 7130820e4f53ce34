/**
 * Windows of a windowed counter kept at every node of the tree: the newest
 * ten of each counter (the current one, the one that just ended and may
 * still get its last deliveries, and eight more to read back). A window is
 * dropped once ten newer windows of its counter exist at that node, so it
 * ended at least nine windows ago [P-14.11] (docs/counters.md, "Windowed counters").
 */
export const WINDOWS_KEPT = 10;

/** A window's variable is `<counter>@<index>` (`WindowedCounter.variable`). */
const WINDOW = /^(.+)@(\d{1,15})$/;

/** The counter and window index of a window's variable, or undefined for any other variable. */
export function parseWindow(name: string): { counter: string; index: number } | undefined {
  const m = WINDOW.exec(name);
  return m ? { counter: m[1]!, index: Number(m[2]) } : undefined;
}

/** The variables among `names` that are windows of `counter` older than its WINDOWS_KEPT newest there. */
export function endedWindows(names: Iterable<string>, counter: string): string[] {
  const windows: Array<[string, number]> = [];
  for (const name of names) {
    const w = parseWindow(name);
    if (w?.counter === counter) windows.push([name, w.index]);
  }
  const newest = Math.max(...windows.map(([, i]) => i));
  return windows.filter(([, i]) => i <= newest - WINDOWS_KEPT).map(([name]) => name);
}
