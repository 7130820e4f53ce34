import { crc32 } from 'node:zlib';
import type { LogRecord, TopicBatch } from '../message-log.js';

/**
 * One group commit as written to the journal: every topic's batch of the
 * commit in one checksummed entry, so the whole commit costs one sequential
 * write and one fdatasync.
 *
 *   entry  = magic u32 | bodyLength u32 | crc32(body) u32 | body
 *   body   = entryId u48 | producerCount u16 | producerId* | batchCount u32 | batch*
 *   producerId = length u16 | utf8
 *   batch  = topicLength u16 | topic utf8 | epoch u32 | firstSeq f64 | recordCount u32 | record*
 *   record = timestamp f64 | producer u16 (index, 0xFFFF none) | producerSeq f64
 *            | keyLength u32 (0xFFFFFFFF none) | key | payloadLength u32 | payload
 *
 * A batch's seqs are contiguous, so a record carries none. Producer ids are
 * written once per entry and referenced by index, so the de-duplication
 * record of a message costs 10 bytes, not its text id. Integers are
 * big-endian; f64 holds every safe integer exactly (seqs, producer
 * sequences, millisecond timestamps).
 */
export const ENTRY_MAGIC = 0x434a3031; // "CJ01"
export const ENTRY_HEADER_BYTES = 12;
const NONE16 = 0xffff;
const NONE32 = 0xffffffff;
const RECORD_FIXED_BYTES = 8 + 2 + 8 + 4 + 4;

export interface JournalEntry {
  entryId: number;
  batches: TopicBatch[];
}

export function encodeEntry(entry: JournalEntry): Buffer {
  const producers = new Map<string, number>();
  let size = ENTRY_HEADER_BYTES + 6 + 2 + 4;
  for (const b of entry.batches) {
    size += 2 + Buffer.byteLength(b.topic) + 4 + 8 + 4;
    for (const r of b.records) {
      size += RECORD_FIXED_BYTES + (r.key?.length ?? 0) + r.payload.length;
      if (r.producerId !== undefined && !producers.has(r.producerId)) {
        if (producers.size === NONE16) throw new RangeError('too many producers in one journal entry');
        producers.set(r.producerId, producers.size);
        size += 2 + Buffer.byteLength(r.producerId);
      }
    }
  }
  const buf = Buffer.allocUnsafe(size);
  let o = ENTRY_HEADER_BYTES;
  o = buf.writeUIntBE(entry.entryId, o, 6);
  o = buf.writeUInt16BE(producers.size, o);
  for (const id of producers.keys()) o = writeString16(buf, o, id);
  o = buf.writeUInt32BE(entry.batches.length, o);
  for (const b of entry.batches) {
    o = writeString16(buf, o, b.topic);
    o = buf.writeUInt32BE(b.epoch, o);
    o = buf.writeDoubleBE(b.records[0]?.seq ?? 0, o);
    o = buf.writeUInt32BE(b.records.length, o);
    for (const r of b.records) o = writeRecord(buf, o, r, producers);
  }
  buf.writeUInt32BE(ENTRY_MAGIC, 0);
  buf.writeUInt32BE(size - ENTRY_HEADER_BYTES, 4);
  buf.writeUInt32BE(crc32(buf.subarray(ENTRY_HEADER_BYTES)), 8);
  return buf;
}

function writeString16(buf: Buffer, o: number, s: string): number {
  const len = buf.write(s, o + 2, 'utf8');
  buf.writeUInt16BE(len, o);
  return o + 2 + len;
}

function writeRecord(buf: Buffer, o: number, r: LogRecord, producers: Map<string, number>): number {
  o = buf.writeDoubleBE(r.timestamp, o);
  o = buf.writeUInt16BE(r.producerId === undefined ? NONE16 : producers.get(r.producerId)!, o);
  o = buf.writeDoubleBE(r.producerSeq, o);
  if (r.key === undefined) o = buf.writeUInt32BE(NONE32, o);
  else {
    o = buf.writeUInt32BE(r.key.length, o);
    o += r.key.copy(buf, o);
  }
  o = buf.writeUInt32BE(r.payload.length, o);
  return o + r.payload.copy(buf, o);
}

/** Why the bytes at an offset are not a whole, intact entry. */
export type EntryDefect = 'truncated' | 'bad-magic' | 'bad-checksum' | 'malformed';

/**
 * Decodes the entry at `offset`: the entry and the offset after it, or the
 * defect that ends the readable journal there (a torn write is 'truncated'
 * or 'bad-checksum'; nothing past it is trusted).
 */
export function decodeEntryAt(buf: Buffer, offset: number): { entry: JournalEntry; next: number } | { defect: EntryDefect } {
  if (buf.length - offset < ENTRY_HEADER_BYTES) return { defect: 'truncated' };
  if (buf.readUInt32BE(offset) !== ENTRY_MAGIC) return { defect: 'bad-magic' };
  const length = buf.readUInt32BE(offset + 4);
  const start = offset + ENTRY_HEADER_BYTES;
  if (buf.length - start < length) return { defect: 'truncated' };
  const body = buf.subarray(start, start + length);
  if (crc32(body) !== buf.readUInt32BE(offset + 8)) return { defect: 'bad-checksum' };
  try {
    return { entry: decodeBody(body), next: start + length };
  } catch {
    return { defect: 'malformed' };
  }
}

function decodeBody(body: Buffer): JournalEntry {
  let o = 0;
  const entryId = body.readUIntBE(o, 6);
  o += 6;
  const producerCount = body.readUInt16BE(o);
  o += 2;
  const producers: string[] = [];
  for (let i = 0; i < producerCount; i++) {
    const len = body.readUInt16BE(o);
    producers.push(body.toString('utf8', o + 2, o + 2 + len));
    o += 2 + len;
  }
  const batchCount = body.readUInt32BE(o);
  o += 4;
  const batches: TopicBatch[] = [];
  for (let i = 0; i < batchCount; i++) {
    const topicLen = body.readUInt16BE(o);
    const topic = body.toString('utf8', o + 2, o + 2 + topicLen);
    o += 2 + topicLen;
    const epoch = body.readUInt32BE(o);
    const firstSeq = body.readDoubleBE(o + 4);
    const count = body.readUInt32BE(o + 12);
    o += 16;
    const records: LogRecord[] = [];
    for (let j = 0; j < count; j++) {
      const timestamp = body.readDoubleBE(o);
      const producer = body.readUInt16BE(o + 8);
      const producerSeq = body.readDoubleBE(o + 10);
      const keyLen = body.readUInt32BE(o + 18);
      o += 22;
      let key: Buffer | undefined;
      if (keyLen !== NONE32) {
        key = Buffer.from(slice(body, o, keyLen));
        o += keyLen;
      }
      const payloadLen = body.readUInt32BE(o);
      o += 4;
      // Copies: a record outlives the journal's read buffer.
      const payload = Buffer.from(slice(body, o, payloadLen));
      o += payloadLen;
      const producerId = producer === NONE16 ? undefined : producers[producer];
      if (producer !== NONE16 && producerId === undefined) throw new RangeError('unknown producer index');
      records.push({ seq: firstSeq + j, timestamp, key, payload, producerId, producerSeq });
    }
    batches.push({ topic, epoch, records });
  }
  if (o !== body.length) throw new RangeError('trailing bytes in a journal entry');
  return { entryId, batches };
}

function slice(body: Buffer, o: number, len: number): Buffer {
  if (o + len > body.length) throw new RangeError('field runs past the entry');
  return body.subarray(o, o + len);
}
