/**
 * ReadRange (ASHRAE 135-2020 Clause 15.8) as served: items of a list or array property, by
 * position, by sequence number or by time (the last two on a Trend Log's Log_Buffer only).
 *
 * The items selected (objects/trend-log.ts `select`) are sent as far as the requester's
 * response size allows; Result_Flags tell whether the first and the last item of the list are
 * included and whether more selected items did not fit (15.8). First_Sequence_Number is
 * given for sequence-number and time requests that return items. A property that is not a list
 * or array is refused with services / property-is-not-a-list.
 */
import type { ReadRangeAck, ReadRangeRequest } from '../../services/read-range';
import { type BacnetValue, valuesToBytes } from '../../codec/values';
import { PropertyIdentifier as P } from '../../enums/property-identifier';
import { Errors, PropertyAccessError } from '../../objects/errors';
import { splitElements } from '../../objects/conform';
import { TrendLogObject, logRecordValues } from '../../objects/trend-log';
import type { RequestInfo, ServiceContext } from '../context';

/** Octets of a ReadRange-ACK besides its items: identifiers, flags, count, tags, first sequence number. */
const ACK_OVERHEAD = 32;

export function readRange(ctx: ServiceContext, req: ReadRangeRequest, info: RequestInfo): ReadRangeAck {
  const o = ctx.db.get(req.objectId);
  if (!o) throw Errors.unknownObject();
  const d = o.propertyDef(req.propertyId);
  if (!d) throw Errors.unknownProperty(P.label(req.propertyId));
  const budget = Math.max(0, info.maxResponse - ACK_OVERHEAD);
  const head = { objectId: o.id, propertyId: req.propertyId, ...(req.arrayIndex !== undefined ? { arrayIndex: req.arrayIndex } : {}) };

  // Items are encoded lazily: a large log buffer is only encoded as far as the response goes.
  let items: Array<() => { values: BacnetValue[]; sequence?: number }> = [];
  let first = false;
  let last = false;
  let fromEnd = false;
  let total = 0;

  if (o instanceof TrendLogObject && req.propertyId === P.logBuffer) {
    const sel = o.select(req.range);
    total = o.recordCount;
    fromEnd = sel.fromEnd;
    items = sel.positions.map((i) => () => {
      const r = o.at(i)!;
      return { values: logRecordValues(r.record), sequence: r.sequence };
    });
    if (sel.positions.length) {
      first = sel.positions[0] === 0;
      last = sel.positions[sel.positions.length - 1] === total - 1;
    }
  } else {
    if (req.arrayIndex !== undefined) throw Errors.notAnArray(P.label(req.propertyId));
    const dt = d.datatype;
    if (!dt || (dt.kind !== 'list' && dt.kind !== 'array')) throw new PropertyAccessError('services', 'property-is-not-a-list', P.label(req.propertyId));
    if (req.range && !('byPosition' in req.range)) {
      throw new PropertyAccessError('services', 'optional-functionality-not-supported', 'by sequence number and by time apply to log buffers');
    }
    const els = splitElements(o.read(req.propertyId), dt.of, P.label(req.propertyId));
    total = els.length;
    let from = 0;
    let to = total - 1;
    if (req.range && 'byPosition' in req.range) {
      const { referenceIndex: ref, count } = req.range.byPosition;
      if (ref < 1 || ref > total || count === 0) {
        from = 0;
        to = -1;
      } else if (count > 0) {
        from = ref - 1;
        to = Math.min(total - 1, ref - 2 + count);
      } else {
        from = Math.max(0, ref + count);
        to = ref - 1;
        fromEnd = true;
      }
    }
    for (let i = from; i <= to; i++) {
      const values = els[i]!;
      items.push(() => ({ values }));
    }
    if (to >= from) {
      first = from === 0;
      last = to === total - 1;
    }
  }

  // Fit the items into the response, keeping those nearest the reference.
  let used = 0;
  const picked: Array<{ values: BacnetValue[]; sequence?: number }> = [];
  for (let k = 0; k < items.length; k++) {
    const it = items[fromEnd ? items.length - 1 - k : k]!();
    const size = valuesToBytes(it.values).length;
    if (used + size > budget) break;
    used += size;
    picked.push(it);
  }
  const kept = fromEnd ? picked.reverse() : picked;
  const more = kept.length < items.length;
  if (more) {
    if (fromEnd) first = false;
    else last = false;
  }
  const ack: ReadRangeAck = {
    ...head,
    resultFlags: [first && kept.length > 0, last && kept.length > 0, more],
    itemCount: kept.length,
    itemData: kept.flatMap((it) => it.values),
  };
  if (req.range && !('byPosition' in req.range) && kept.length && kept[0]!.sequence !== undefined) ack.firstSequenceNumber = kept[0]!.sequence;
  return ack;
}
