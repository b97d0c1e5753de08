#!/usr/bin/python3
"""Drive the reference CA client library (libca, through Debian's python3-pyepics) for Fieldlink's
interop tests. Reads one JSON command per line on stdin, writes one JSON reply per line on stdout
({"id", "ok", "result"|"error"}), and monitor updates as {"event": <sub id>, ...} lines.

Reads of every DBR type go straight through libca (ca_array_get_callback) and the returned host
struct is unpacked here with the C layouts of db_access.h, using libca's own dbr_value_offset,
dbr_size and dbr_value_size tables: so a wrong wire layout on the server shows up as wrong fields.
"""
import ctypes
import json
import struct
import sys
import threading

import epics
import epics.ca as ca

ca.initialize_libca()
LIB = ctypes.CDLL(ca.find_libca())  # own function objects: argtypes independent of pyepics
VALUE_OFFSET = (ctypes.c_ushort * 39).in_dll(LIB, 'dbr_value_offset')
DBR_SIZE = (ctypes.c_ushort * 39).in_dll(LIB, 'dbr_size')
DBR_VALUE_SIZE = (ctypes.c_ushort * 39).in_dll(LIB, 'dbr_value_size')
LIB.ca_message.restype = ctypes.c_char_p


class EventArgs(ctypes.Structure):
    _fields_ = [('usr', ctypes.c_void_p), ('chid', ctypes.c_void_p), ('type', ctypes.c_long),
                ('count', ctypes.c_long), ('dbr', ctypes.c_void_p), ('status', ctypes.c_int)]


CALLBACK = ctypes.CFUNCTYPE(None, EventArgs)
LIB.ca_array_get_callback.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, CALLBACK, ctypes.c_void_p]
LIB.ca_array_put_callback.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p, CALLBACK, ctypes.c_void_p]
LIB.ca_flush_io.argtypes = []

OUT_LOCK = threading.Lock()
CHANNELS = {}
SUBS = {}
KEEP = []  # ctypes callbacks must outlive the calls that use them

ELEM = {0: ('s', 40), 1: ('h', 2), 2: ('f', 4), 3: ('H', 2), 4: ('B', 1), 5: ('i', 4), 6: ('d', 8)}


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()


def cstr(b):
    return b.split(b'\0', 1)[0].decode('utf-8', 'replace')


def channel(name, timeout=5.0):
    chid = CHANNELS.get(name)
    if chid is None:
        chid = ca.create_channel(name, connect=False, auto_cb=False)
        CHANNELS[name] = chid
    if not ca.connect_channel(chid, timeout=timeout):
        raise RuntimeError('could not connect to ' + name)
    return chid


def family(t):
    if t <= 6:
        return 'plain', t
    if t <= 34:
        return ('sts', 'time', 'gr', 'ctrl')[(t - 7) // 7], (t - 7) % 7
    return 'special', t


def unpack(t, count, raw):
    """Fields of a libca host-order DBR struct (x86-64 / little-endian)."""
    fam, native = family(t)
    out = {'type': t, 'count': count}
    off = VALUE_OFFSET[t]
    if t in (35, 36):
        native = 3
    if t in (37, 38):
        native = 0
    if fam != 'plain' or t == 37:
        out['status'], out['severity'] = struct.unpack_from('<hh', raw, 0)
    if t == 37:
        out['ackt'], out['acks'] = struct.unpack_from('<HH', raw, 4)
    if fam == 'time':
        out['secs'], out['nsec'] = struct.unpack_from('<II', raw, 4)
    if fam in ('gr', 'ctrl') and native == 3:
        n = struct.unpack_from('<h', raw, 4)[0]
        out['enum_strs'] = [cstr(raw[6 + 26 * i: 6 + 26 * (i + 1)]) for i in range(n)]
    elif fam in ('gr', 'ctrl') and native != 0:
        fmt, size = ELEM[native]
        p = 4
        if native in (2, 6):
            out['precision'] = struct.unpack_from('<h', raw, 4)[0]
            p = 8
        out['units'] = cstr(raw[p:p + 8])
        p += 8
        names = ['upper_disp', 'lower_disp', 'upper_alarm', 'upper_warning', 'lower_warning', 'lower_alarm']
        if fam == 'ctrl':
            names += ['upper_ctrl', 'lower_ctrl']
        for nm in names:
            out[nm] = struct.unpack_from('<' + ('b' if fmt == 'B' else fmt), raw, p)[0]
            p += size
    fmt, size = ELEM[native]
    if native == 0:
        out['value'] = [cstr(raw[off + 40 * i: off + 40 * (i + 1)]) for i in range(count)]
    else:
        out['value'] = list(struct.unpack_from('<%d%s' % (count, fmt), raw, off))
    return out


def raw_get(name, t, count, timeout):
    chid = channel(name)
    done = threading.Event()
    result = {}

    def cb(args):
        try:
            if args.status != 1:
                result['error'] = LIB.ca_message(args.status).decode()
                result['eca'] = args.status
            else:
                n = args.count
                size = DBR_SIZE[args.type] + (n - 1) * DBR_VALUE_SIZE[args.type] if n > 0 else DBR_SIZE[args.type]
                result['data'] = unpack(args.type, n, ctypes.string_at(args.dbr, size))
        except Exception as e:  # report, never raise into libca
            result['error'] = repr(e)
        done.set()

    c = CALLBACK(cb)
    KEEP.append(c)
    st = LIB.ca_array_get_callback(t, count, ctypes.c_void_p(chid.value if hasattr(chid, 'value') else chid), c, None)
    if st != 1:
        raise RuntimeError(LIB.ca_message(st).decode())
    LIB.ca_flush_io()
    if not done.wait(timeout):
        raise RuntimeError('get timed out')
    if 'error' in result:
        return {'eca': result.get('eca'), 'error': result['error']}
    return result['data']


def raw_put_string(name, text, timeout):
    """ca_array_put_callback of one DBR_STRING: the server converts (enum by state name)."""
    chid = channel(name)
    done = threading.Event()
    result = {}

    def cb(args):
        result['eca'] = args.status
        done.set()

    c = CALLBACK(cb)
    KEEP.append(c)
    buf = ctypes.create_string_buffer(text.encode(), 40)
    st = LIB.ca_array_put_callback(0, 1, ctypes.c_void_p(chid.value if hasattr(chid, 'value') else chid), buf, c, None)
    if st != 1:
        raise RuntimeError(LIB.ca_message(st).decode())
    LIB.ca_flush_io()
    if not done.wait(timeout):
        raise RuntimeError('put timed out')
    return {'eca': result['eca'], 'message': LIB.ca_message(result['eca']).decode()}


def to_json(v):
    if hasattr(v, 'tolist'):
        return v.tolist()
    if isinstance(v, bytes):
        return v.decode('utf-8', 'replace')
    return v


def handle(cmd):
    op = cmd['op']
    timeout = cmd.get('timeout', 5.0)
    if op == 'get':
        return raw_get(cmd['pv'], cmd['type'], cmd.get('count', 0), timeout)
    if op == 'caget':
        v = epics.caget(cmd['pv'], as_string=cmd.get('as_string', False), timeout=timeout, count=cmd.get('count'))
        if v is None:
            raise RuntimeError('caget returned None')
        if cmd.get('summary') and hasattr(v, '__len__'):
            return {'len': len(v), 'first': to_json(v[:3]), 'last': to_json(v[-3:]), 'sum': float(sum(v))}
        return to_json(v)
    if op == 'caput':
        value = cmd['value']
        if cmd.get('array_len'):
            import numpy
            value = numpy.arange(cmd['array_len'], dtype='float64') * cmd.get('scale', 1.0)
        r = epics.caput(cmd['pv'], value, wait=cmd.get('wait', False), timeout=timeout)
        return r
    if op == 'put_string':
        return raw_put_string(cmd['pv'], cmd['value'], timeout)
    if op == 'info':
        chid = channel(cmd['pv'])
        return {'type': ca.field_type(chid), 'count': ca.element_count(chid),
                'read': bool(ca.read_access(chid)), 'write': bool(ca.write_access(chid)), 'host': ca.host_name(chid)}
    if op == 'subscribe':
        sid = cmd['sub']
        chid = channel(cmd['pv'])

        def on_update(pvname=None, value=None, **kw):
            emit({'event': sid, 'value': to_json(value), 'severity': kw.get('severity'), 'status': kw.get('status'),
                  'timestamp': kw.get('timestamp')})
        mask = cmd.get('mask', 5)
        SUBS[sid] = ca.create_subscription(chid, use_time=True, mask=mask, callback=on_update)
        return True
    if op == 'unsubscribe':
        cb, uarg, evid = SUBS.pop(cmd['sub'])
        ca.clear_subscription(evid)
        return True
    if op == 'watch_conn':
        name = cmd['pv']
        sid = cmd['sub']

        def on_conn(pvname=None, chid=None, conn=None):
            emit({'event': sid, 'connected': bool(conn)})
        chid = ca.create_channel(name, connect=False, callback=on_conn, auto_cb=False)
        KEEP.append(on_conn)
        return True
    if op == 'bench_get':
        # Issue a get per PV, then one ca_pend_io: libca's batched read, timed per round (us).
        import time
        t = cmd.get('type', 20)
        chids = [channel(n) for n in cmd['pvs']]
        size = DBR_SIZE[t]
        bufs = [ctypes.create_string_buffer(size) for _ in chids]
        LIB.ca_array_get.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p]
        LIB.ca_pend_io.argtypes = [ctypes.c_double]
        ids = [ctypes.c_void_p(c.value if hasattr(c, 'value') else c) for c in chids]
        samples = []
        for _ in range(cmd.get('rounds', 100)):
            t0 = time.perf_counter()
            for cid, buf in zip(ids, bufs):
                LIB.ca_array_get(t, 1, cid, buf)
            st = LIB.ca_pend_io(5.0)
            samples.append((time.perf_counter() - t0) * 1e6)
            if st != 1:
                raise RuntimeError(LIB.ca_message(st).decode())
        return samples
    if op == 'ping':
        return 'pong'
    raise RuntimeError('unknown op ' + op)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get('op') == 'quit':
            break
        try:
            emit({'id': cmd['id'], 'ok': True, 'result': handle(cmd)})
        except Exception as e:
            emit({'id': cmd['id'], 'ok': False, 'error': repr(e)})
    ca.finalize_libca()


main()
