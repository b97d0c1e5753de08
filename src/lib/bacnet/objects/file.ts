/**
 * The File object (ASHRAE 135-2020 Clause 12.13) and the data behind it, read and written
 * with AtomicReadFile / AtomicWriteFile (Clauses 14.1, 14.2): stream access (octets from a
 * start position; start -1 appends on write) or record access (records from a start record).
 * File_Size, Record_Count and Modification_Date are computed from the data.
 *
 * Errors (14.1, 14.2): the wrong access method is services / invalid-file-access-method,
 * a start beyond the data is services / invalid-file-start-position, a write to a read-only file
 * is services / file-access-denied.
 */
import { dateFromJs, timeFromJs } from '../codec/primitives';
import { type BacnetValue, Value } from '../codec/values';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { FileAccessMethod } from '../enums/states';
import { BacnetObject, type ObjectInit } from './object';
import { PropertyAccessError } from './errors';
import { objectTypeDef } from './types';

/** Largest file this server keeps in memory (octets). */
export const MAX_FILE_SIZE = 16 * 1024 * 1024;

export interface FileInit extends ObjectInit {
  access?: 'stream' | 'record';
  fileType?: string;
  readOnly?: boolean;
  data?: Uint8Array | Uint8Array[];
}

export class FileObject extends BacnetObject {
  readonly access: 'stream' | 'record';
  #stream = new Uint8Array(0);
  #records: Uint8Array[] = [];
  #modified: number;

  constructor(init: FileInit) {
    const access = init.access ?? (Array.isArray(init.data) ? 'record' : 'stream');
    const values: Array<[number, BacnetValue[]]> = [...(init.values ?? [])];
    values.push([P.fileAccessMethod, [Value.enumerated(access === 'record' ? FileAccessMethod.recordAccess : FileAccessMethod.streamAccess)]]);
    if (init.fileType !== undefined) values.push([P.fileType, [Value.characterString(init.fileType)]]);
    if (init.readOnly !== undefined) values.push([P.readOnly, [Value.boolean(init.readOnly)]]);
    const optional = [...(init.optional ?? [])];
    if (access === 'record') optional.push(P.recordCount);
    super(objectTypeDef(ObjectType.file)!, { ...init, values, optional });
    this.access = access;
    if (init.data instanceof Uint8Array) this.#stream = init.data.slice();
    else if (Array.isArray(init.data)) this.#records = init.data.map((r) => r.slice());
    this.#modified = Date.now();
  }

  get readOnly(): boolean {
    const v = this.stored(P.readOnly)?.[0];
    return v?.type === 'boolean' && v.value;
  }

  /** The whole content: one buffer (stream) or the records. */
  content(): Uint8Array | Uint8Array[] {
    return this.access === 'stream' ? this.#stream : this.#records;
  }

  /** Replace the content from the flow. */
  setContent(data: Uint8Array | Uint8Array[]): void {
    if (data instanceof Uint8Array) {
      if (this.access !== 'stream') throw new PropertyAccessError('services', 'invalid-file-access-method', 'record file needs records');
      this.#stream = data.slice();
    } else {
      if (this.access !== 'record') throw new PropertyAccessError('services', 'invalid-file-access-method', 'stream file needs octets');
      this.#records = data.map((r) => r.slice());
    }
    this.#touch('local');
  }

  protected override compute(propertyId: number): BacnetValue[] | undefined {
    switch (propertyId) {
      case P.fileSize: return [Value.unsigned(this.access === 'stream' ? this.#stream.length : this.#records.reduce((n, r) => n + r.length, 0))];
      case P.recordCount: return [Value.unsigned(this.#records.length)];
      case P.modificationDate: {
        const d = new Date(this.#modified);
        return [Value.date(dateFromJs(d)), Value.time(timeFromJs(d))];
      }
      default: return super.compute(propertyId);
    }
  }

  #requireAccess(kind: 'stream' | 'record'): void {
    if (this.access !== kind) throw new PropertyAccessError('services', 'invalid-file-access-method', `${this.label()} uses ${this.access} access`);
  }

  #requireWritable(): void {
    if (this.readOnly || !this.writable) throw new PropertyAccessError('services', 'file-access-denied', `${this.label()} is read-only`);
  }

  #touch(source: 'network' | 'local'): void {
    this.#modified = this.host.now();
    this.host.changed(this, [P.fileSize, P.modificationDate, ...(this.access === 'record' ? [P.recordCount] : [])], source);
  }

  /** Stream read: up to `count` octets from `start`; endOfFile when the data ends within the read. */
  readStream(start: number, count: number): { data: Uint8Array; endOfFile: boolean } {
    this.#requireAccess('stream');
    if (start < 0 || start > this.#stream.length) throw new PropertyAccessError('services', 'invalid-file-start-position', `${start} of ${this.#stream.length}`);
    const end = Math.min(this.#stream.length, start + count);
    return { data: this.#stream.slice(start, end), endOfFile: end >= this.#stream.length };
  }

  /** Stream write at `start` (-1 appends); returns the start actually used. */
  writeStream(start: number, data: Uint8Array): number {
    this.#requireAccess('stream');
    this.#requireWritable();
    const at = start === -1 ? this.#stream.length : start;
    if (at < 0 || at > this.#stream.length) throw new PropertyAccessError('services', 'invalid-file-start-position', `${start} of ${this.#stream.length}`);
    const end = at + data.length;
    if (end > MAX_FILE_SIZE) throw new PropertyAccessError('resources', 'no-space-to-write-property', `file would exceed ${MAX_FILE_SIZE} octets`);
    if (end > this.#stream.length) {
      const grown = new Uint8Array(end);
      grown.set(this.#stream);
      this.#stream = grown;
    }
    this.#stream.set(data, at);
    this.#touch('network');
    return at;
  }

  readRecords(start: number, count: number): { records: Uint8Array[]; endOfFile: boolean } {
    this.#requireAccess('record');
    if (start < 0 || start > this.#records.length) throw new PropertyAccessError('services', 'invalid-file-start-position', `record ${start} of ${this.#records.length}`);
    const end = Math.min(this.#records.length, start + count);
    return { records: this.#records.slice(start, end), endOfFile: end >= this.#records.length };
  }

  writeRecords(start: number, records: Uint8Array[]): number {
    this.#requireAccess('record');
    this.#requireWritable();
    const at = start === -1 ? this.#records.length : start;
    if (at < 0 || at > this.#records.length) throw new PropertyAccessError('services', 'invalid-file-start-position', `record ${start} of ${this.#records.length}`);
    const total = this.#records.reduce((n, r) => n + r.length, 0) + records.reduce((n, r) => n + r.length, 0);
    if (total > MAX_FILE_SIZE) throw new PropertyAccessError('resources', 'no-space-to-write-property', `file would exceed ${MAX_FILE_SIZE} octets`);
    records.forEach((r, i) => {
      this.#records[at + i] = r.slice();
    });
    this.#touch('network');
    return at;
  }
}
