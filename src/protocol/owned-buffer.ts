/**
 * The bytes of `parts`, in a buffer that owns its memory, of exactly `total`
 * bytes, and no larger.
 *
 * A Buffer that is a view keeps its whole backing memory alive: a few bytes
 * left over from a socket read hold the read's 64 KiB, and a small frame
 * (Buffer.allocUnsafe under 4 KiB) holds a slab of Node's shared 8 KiB pool.
 * That does not matter for a buffer that lives one turn of the event loop;
 * it does for one that may wait for minutes (input a paused connection has
 * not processed, output its client does not read). A buffer that already
 * owns exactly its memory is returned as is.
 */
export function ownedBuffer(parts: readonly Buffer[], total: number): Buffer {
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (only !== undefined && only.length === total && only.buffer.byteLength === total) return only;
  // allocUnsafeSlow: never a slice of the pool.
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of parts) {
    if (at >= total) break;
    at += p.copy(out, at, 0, Math.min(p.length, total - at));
  }
  return out;
}

/** Does `buf` keep alive more than twice its own size of memory? */
export function holdsMuchMore(buf: Buffer): boolean {
  return buf.buffer.byteLength > 2 * buf.length;
}
