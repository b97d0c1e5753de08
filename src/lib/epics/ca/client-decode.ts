/**
 * Fast decoding of the replies a client gets most: one element of a numeric type in the plain,
 * STS or TIME form (a get or a monitor of a scalar PV). Reads the fields straight from the
 * received Buffer; everything else (arrays, strings, GR/CTRL, special types) goes through the
 * core's `decodeDbr`. Same result shape as `decodeDbr`.
 */
import { dbrLayout, decodeDbr, type DbrValue } from './dbr';

const layoutOf = dbrLayout; // module locals for the hot path
const generic = decodeDbr;

/**
 * Decode `count` elements of DBR `type` from `buf[off..end)`; throws DecodeError like decodeDbr.
 * `scalar` (the channel holds one element): the value may come back as a one-element plain array
 * instead of a typed array; `makeReading` unwraps it, so it never reaches users, and it spares an
 * ArrayBuffer per reading on the hot path.
 */
export function decodeReply(type: number, count: number, buf: Uint8Array, off: number, end: number, owned: boolean, scalar = false): DbrValue {
  if (count === 1 && buf instanceof Buffer) {
    const l = layoutOf(type);
    if (l && (l.family === 'plain' || l.family === 'sts' || l.family === 'time') && l.elem !== 'string') {
      const vo = off + l.valueOffset;
      if (vo + l.elementSize <= end) {
        let value: DbrValue['value'];
        if (scalar) {
          let x: number;
          switch (l.elem) {
            case 'f64': x = buf.readDoubleBE(vo); break;
            case 'i32': x = buf.readInt32BE(vo); break;
            case 'f32': x = buf.readFloatBE(vo); break;
            case 'i16': x = buf.readInt16BE(vo); break;
            case 'u16': x = buf.readUInt16BE(vo); break;
            default: x = buf[vo]!; break;
          }
          // A plain one-element array stands in for the typed array (see above).
          value = [x] as unknown as DbrValue['value'];
        } else switch (l.elem) {
          case 'f64': (value = new Float64Array(1))[0] = buf.readDoubleBE(vo); break;
          case 'i32': (value = new Int32Array(1))[0] = buf.readInt32BE(vo); break;
          case 'f32': (value = new Float32Array(1))[0] = buf.readFloatBE(vo); break;
          case 'i16': (value = new Int16Array(1))[0] = buf.readInt16BE(vo); break;
          case 'u16': (value = new Uint16Array(1))[0] = buf.readUInt16BE(vo); break;
          default: (value = new Uint8Array(1))[0] = buf[vo]!; break;
        }
        const out: DbrValue = { dataType: type, count: 1, value };
        if (l.family !== 'plain') {
          out.status = buf.readUInt16BE(off);
          out.severity = buf.readUInt16BE(off + 2);
          if (l.family === 'time') out.stamp = { secondsPastEpoch: buf.readUInt32BE(off + 4), nanoseconds: buf.readUInt32BE(off + 8) };
        }
        return out;
      }
    }
  }
  return generic(type, count, buf, off, end, { owned });
}
