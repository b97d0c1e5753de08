/**
 * The Trend Log object and its circular Log_Buffer (ASHRAE 135-2020 Clause 12.25) and the
 * record selection of ReadRange on it (Clause 15.8: by position, by sequence number, by
 * time).
 *
 * Records carry sequence numbers 1..2^32-1: Total_Record_Count counts every record ever added
 * and wraps to 1 (12.25); the oldest record is dropped when the buffer is full unless
 * Stop_When_Full is TRUE, in which case logging stops (Enable goes FALSE, 12.25). Writing 0
 * to Record_Count empties the buffer (12.25) and logs a buffer-purged status. Enabling and
 * disabling log a log-status record (12.25). The engine that decides when to log lives in
 * server/trend-log-engine.ts.
 */
import { type LogRecord, type DateTime, writeLogRecord } from '../codec/constructed';
import { dateFromJs, timeFromJs, toJsDate } from '../codec/primitives';
import { type BacnetValue, Value, bytesToValues } from '../codec/values';
import { Writer } from '../../wire/writer';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { BacnetObject, type ObjectInit, type WriteOutcome, type WriteRequest } from './object';
import { Errors } from './errors';
import type { PropertyDef } from './properties';
import { objectTypeDef } from './types';

/** Largest Buffer_Size accepted (records kept in memory). */
export const MAX_BUFFER_SIZE = 100_000;
const SEQUENCE_WRAP = 0xffffffff;

export interface StoredRecord {
  sequence: number;
  /** ms since the epoch (device clock), for by-time selection. */
  at: number;
  record: LogRecord;
}

/** Which buffer positions (0-based, oldest first) a ReadRange selects, nearest-to-reference first when counting backwards. */
export interface Selection {
  /** Positions in chronological order. */
  positions: number[];
  /** Position closest to the reference (trim from the other end when the response is full). */
  fromEnd: boolean;
}

export type RangeSpec =
  | { byPosition: { referenceIndex: number; count: number } }
  | { bySequenceNumber: { referenceSequenceNumber: number; count: number } }
  | { byTime: { referenceTime: DateTime; count: number } };

export class TrendLogObject extends BacnetObject {
  #ring: Array<StoredRecord | undefined> = [];
  #head = 0;
  #count = 0;
  #total = 0;

  constructor(init: ObjectInit) {
    super(objectTypeDef(ObjectType.trendLog)!, init);
    this.#ring = new Array<StoredRecord | undefined>(this.bufferSize);
  }

  get bufferSize(): number {
    const v = this.stored(P.bufferSize)?.[0];
    return v?.type === 'unsigned' ? Math.min(MAX_BUFFER_SIZE, Number(v.value)) : 0;
  }

  get enabled(): boolean {
    const v = this.stored(P.enable)?.[0];
    return v?.type === 'boolean' && v.value;
  }

  get stopWhenFull(): boolean {
    const v = this.stored(P.stopWhenFull)?.[0];
    return v?.type === 'boolean' && v.value;
  }

  get recordCount(): number {
    return this.#count;
  }

  get totalRecordCount(): number {
    return this.#total;
  }

  /** Record at buffer position `i` (0 = oldest). */
  at(i: number): StoredRecord | undefined {
    if (i < 0 || i >= this.#count) return undefined;
    const size = this.#ring.length;
    return this.#ring[(this.#head + i) % size];
  }

  /** Every record, oldest first (tests, persistence). */
  records(): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.at(i)!);
    return out;
  }

  /** Append a record stamped `now` (device clock). Returns false when the log is full and stops when full. */
  append(datum: LogRecord['datum'], now: number, statusFlags?: boolean[]): boolean {
    const size = this.#ring.length;
    if (size === 0) return false;
    if (this.#count === size && this.stopWhenFull) return false;
    const d = new Date(now);
    const record: LogRecord = { timestamp: { date: dateFromJs(d), time: timeFromJs(d) }, datum };
    if (statusFlags) record.statusFlags = statusFlags;
    this.#total = this.#total >= SEQUENCE_WRAP ? 1 : this.#total + 1;
    const entry: StoredRecord = { sequence: this.#total, at: now, record };
    if (this.#count < size) {
      this.#ring[(this.#head + this.#count) % size] = entry;
      this.#count++;
    } else {
      this.#ring[this.#head] = entry;
      this.#head = (this.#head + 1) % size;
    }
    const changed: number[] = [P.logBuffer, P.recordCount, P.totalRecordCount];
    if (this.#count === size && this.stopWhenFull) {
      // Full and stop-when-full: logging stops (12.25).
      this.setLocal(P.enable, [Value.boolean(false)], { silent: true, source: 'engine' });
      changed.push(P.enable);
    }
    this.host.changed(this, changed, 'engine');
    return true;
  }

  /** Empty the buffer (Record_Count := 0) and log buffer-purged. */
  purge(now: number): void {
    this.#ring = new Array<StoredRecord | undefined>(this.bufferSize);
    this.#head = 0;
    this.#count = 0;
    this.append({ kind: 'log-status', value: [!this.enabled, true, false] }, now);
  }

  protected override compute(propertyId: number): BacnetValue[] | undefined {
    switch (propertyId) {
      case P.recordCount: return [Value.unsigned(this.#count)];
      case P.totalRecordCount: return [Value.unsigned(this.#total)];
      case P.logBuffer: return undefined;
      default: return super.compute(propertyId);
    }
  }

  override read(propertyId: number, arrayIndex?: number): BacnetValue[] {
    // Log_Buffer is read with ReadRange (15.8); ReadProperty is refused as bacnet-stack and others do.
    if (propertyId === P.logBuffer) throw Errors.readAccessDenied('log-buffer is read with ReadRange');
    return super.read(propertyId, arrayIndex);
  }

  protected override writeSpecial(d: PropertyDef, req: WriteRequest): WriteOutcome | undefined {
    if (d.id === P.recordCount) {
      const v = req.value[0];
      if (req.value.length !== 1 || v?.type !== 'unsigned') throw Errors.invalidDataType('record-count');
      if (Number(v.value) !== 0) throw Errors.valueOutOfRange('only 0 may be written to record-count');
      this.purge(this.host.now());
      return { changed: true };
    }
    if (d.id === P.bufferSize) {
      const v = req.value[0];
      if (req.value.length !== 1 || v?.type !== 'unsigned') throw Errors.invalidDataType('buffer-size');
      if (Number(v.value) > MAX_BUFFER_SIZE) throw Errors.valueOutOfRange(`buffer-size above ${MAX_BUFFER_SIZE}`);
      if (this.enabled) throw Errors.writeAccessDenied('disable the log before changing buffer-size');
      this.setLocal(P.bufferSize, req.value, { source: 'network' });
      this.resize();
      return { changed: true };
    }
    return undefined;
  }

  /** Apply a new Buffer_Size: keep the newest records that fit. */
  resize(): void {
    const size = this.bufferSize;
    const keep = size ? this.records().slice(-size) : [];
    this.#ring = new Array<StoredRecord | undefined>(size);
    this.#head = 0;
    this.#count = 0;
    for (const r of keep) this.#ring[this.#count++] = r;
  }

  /**
   * Positions selected by a ReadRange specification (15.8); no range = every record.
   * Empty when the reference is not in the buffer.
   */
  select(range: RangeSpec | undefined): Selection {
    const n = this.#count;
    const all = (from: number, to: number): number[] => {
      const out: number[] = [];
      for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) out.push(i);
      return out;
    };
    if (!range) return { positions: all(0, n - 1), fromEnd: false };
    if ('byPosition' in range) {
      const { referenceIndex: ref, count } = range.byPosition;
      if (ref < 1 || ref > n || count === 0) return { positions: [], fromEnd: false };
      return count > 0 ? { positions: all(ref - 1, ref - 2 + count), fromEnd: false } : { positions: all(ref + count, ref - 1), fromEnd: true };
    }
    if ('bySequenceNumber' in range) {
      const { referenceSequenceNumber: seq, count } = range.bySequenceNumber;
      const first = this.at(0);
      if (!first || count === 0) return { positions: [], fromEnd: false };
      // Sequence numbers are consecutive in the buffer (modulo the wrap).
      let pos = seq - first.sequence;
      if (pos < 0) pos += SEQUENCE_WRAP;
      if (pos >= n) return { positions: [], fromEnd: false };
      return count > 0 ? { positions: all(pos, pos + count - 1), fromEnd: false } : { positions: all(pos + count + 1, pos), fromEnd: true };
    }
    const { referenceTime, count } = range.byTime;
    const ref = toJsDate(referenceTime.date, referenceTime.time)?.getTime();
    if (ref === undefined || count === 0) return { positions: [], fromEnd: false };
    if (count > 0) {
      let i = 0;
      while (i < n && this.at(i)!.at <= ref) i++;
      return { positions: all(i, i + count - 1), fromEnd: false };
    }
    let j = n - 1;
    while (j >= 0 && this.at(j)!.at >= ref) j--;
    return { positions: all(j + count + 1, j), fromEnd: true };
  }
}

/** A log record as the tagged values of one Log_Buffer element (BACnetLogRecord). */
export function logRecordValues(r: LogRecord): BacnetValue[] {
  const w = new Writer(32);
  writeLogRecord(w, r);
  return bytesToValues(w.finish());
}
