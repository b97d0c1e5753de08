/**
 * Sizing ReadPropertyMultiple requests (ASHRAE 135-2020 Clause 15.7; APDU limits of 20.1.2.5):
 * estimate, from the property datatype table, how many octets each requested property adds to
 * the request and to the answer, and pack a list of property references into as few RPM
 * requests as fit the device's max APDU (the answer without segmentation, and the request).
 * Fixed object counts per request (1/3/5/10/50/100 by max APDU, or 10, or 25) are what other
 * clients use; an estimate per datatype packs more into each request and never needs a
 * segmented answer from a device that cannot send one. When the estimate is wrong anyway the
 * device aborts, and the caller halves the budget and remembers it (client.ts).
 */
import type { ObjectId } from '../codec/primitives';
import { type Datatype, propertyDatatype } from '../codec/datatypes';

export interface PropertyRef {
  objectId: ObjectId;
  propertyId: number;
  arrayIndex?: number;
}

/** ComplexACK header (type, invoke ID, service choice) and a margin for the NPDU-independent rest. */
export const ACK_HEADER = 4;
/** Confirmed-Request header (type, max segs/APDU, invoke ID, service choice). */
export const REQUEST_HEADER = 4;
/** The smallest budget we shrink to (one object's worth). */
export const MIN_BUDGET = 48;

function tagged(n: number): number {
  // a context tag with its length: 1 octet header + content (unsigned/enumerated up to 4 octets)
  return 1 + (n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4);
}

/** Estimated encoded size of one value of datatype `d` (octets, conservative). */
export function valueSize(d: Datatype | undefined): number {
  if (!d) return 16;
  switch (d.kind) {
    case 'null':
    case 'boolean': return 1;
    case 'real': return 5;
    case 'double': return 10;
    case 'unsigned':
    case 'signed':
    case 'enumerated':
    case 'date':
    case 'time':
    case 'object-identifier': return 5;
    case 'date-time': return 10;
    case 'bit-string': return d.bits ? 2 + Math.ceil(d.bits.size / 8) : 6;
    case 'octet-string': return 18;
    case 'character-string': return 66;
    case 'array': return d.size !== undefined ? d.size * valueSize(d.of) : 160;
    case 'list': return 160;
    case 'optional': return valueSize(d.of);
    case 'constructed': return 40;
    default: return 16;
  }
}

/** Octets one property adds to an RPM answer (identifier, index, opening/closing tag, value or error). */
export function answerSize(ref: PropertyRef): number {
  const d = propertyDatatype(ref.objectId.type, ref.propertyId);
  const v = ref.arrayIndex !== undefined && d && d.kind === 'array' ? valueSize(d.of) : valueSize(d);
  return tagged(ref.propertyId) + (ref.arrayIndex !== undefined ? tagged(ref.arrayIndex) : 0) + 2 + Math.max(v, 6);
}

/** Octets one property adds to an RPM request. */
export function requestSize(ref: PropertyRef): number {
  return tagged(ref.propertyId) + (ref.arrayIndex !== undefined ? tagged(ref.arrayIndex) : 0);
}

/** Per object: identifier (5) and opening/closing tag (2), in request and answer alike. */
export const OBJECT_OVERHEAD = 7;

export interface RpmBatch {
  /** Indexes into the caller's list, in request order. */
  items: number[];
  specs: Array<{ objectId: ObjectId; properties: Array<{ propertyId: number; arrayIndex?: number }> }>;
  /** Estimated answer size in octets. */
  estimate: number;
}

const sameObject = (a: ObjectId, b: ObjectId): boolean => a.type === b.type && a.instance === b.instance;

/**
 * Pack `refs` (by their indexes `order`, default all) into batches whose estimated answer fits
 * `answerBudget` and whose request fits `requestBudget`. Consecutive properties of one object
 * share a read access specification. A property that alone exceeds the budget gets a batch of
 * its own (the device may still answer it segmented).
 */
export function planBatches(refs: readonly PropertyRef[], answerBudget: number, requestBudget: number, order?: readonly number[]): RpmBatch[] {
  const idx = order ?? refs.map((_, i) => i);
  const out: RpmBatch[] = [];
  let cur: RpmBatch | undefined;
  let reqSize = 0;
  for (const i of idx) {
    const ref = refs[i]!;
    const a = answerSize(ref);
    const q = requestSize(ref);
    const last = cur?.specs[cur.specs.length - 1];
    const joins = !!last && sameObject(last.objectId, ref.objectId);
    const addA = a + (joins ? 0 : OBJECT_OVERHEAD);
    const addQ = q + (joins ? 0 : OBJECT_OVERHEAD);
    if (!cur || cur.estimate + addA > answerBudget || reqSize + addQ > requestBudget) {
      cur = { items: [], specs: [], estimate: 0 };
      out.push(cur);
      reqSize = 0;
    }
    const prop: { propertyId: number; arrayIndex?: number } = { propertyId: ref.propertyId };
    if (ref.arrayIndex !== undefined) prop.arrayIndex = ref.arrayIndex;
    const tail = cur.specs[cur.specs.length - 1];
    if (tail && sameObject(tail.objectId, ref.objectId)) {
      tail.properties.push(prop);
      cur.estimate += a;
      reqSize += q;
    } else {
      cur.specs.push({ objectId: ref.objectId, properties: [prop] });
      cur.estimate += a + OBJECT_OVERHEAD;
      reqSize += q + OBJECT_OVERHEAD;
    }
    cur.items.push(i);
  }
  return out;
}
