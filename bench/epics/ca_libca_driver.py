#!/usr/bin/python3
"""Benchmark driver for the reference CA client library: Debian's libca (4.13.5) through ctypes,
the way C programs use it (ca_create_channel + ca_pend_io to connect; N ca_array_get + one
ca_pend_io for a batch of reads). Same JSON commands as ca-driver-fieldlink.ts, one per line on
stdin, one reply per line on stdout. Times are measured here with perf_counter around the libca
calls; the environment (set by the benchmark) limits it to loopback.
"""
import ctypes
import ctypes.util
import json
import os
import sys
import time

LIBCA = None
for cand in ('libca.so.4.13.5', 'libca.so.4.13', ctypes.util.find_library('ca')):
    if not cand:
        continue
    try:
        LIBCA = ctypes.CDLL(cand)
        break
    except OSError:
        pass
if LIBCA is None:
    sys.stderr.write('libca not found\n')
    sys.exit(2)

L = LIBCA
ECA_NORMAL = 1
DBR_TIME_DOUBLE = 20
DBR_SIZE = (ctypes.c_ushort * 39).in_dll(L, 'dbr_size')
VALUE_OFFSET = (ctypes.c_ushort * 39).in_dll(L, 'dbr_value_offset')
chid = ctypes.c_void_p

L.ca_context_create.argtypes = [ctypes.c_int]
L.ca_create_channel.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(chid)]
L.ca_clear_channel.argtypes = [chid]
L.ca_pend_io.argtypes = [ctypes.c_double]
L.ca_pend_event.argtypes = [ctypes.c_double]
L.ca_flush_io.argtypes = []
L.ca_array_get.argtypes = [ctypes.c_long, ctypes.c_ulong, chid, ctypes.c_void_p]
L.ca_state.argtypes = [chid]
L.ca_message.restype = ctypes.c_char_p


class EventArgs(ctypes.Structure):
    _fields_ = [('usr', ctypes.c_void_p), ('chid', ctypes.c_void_p), ('type', ctypes.c_long),
                ('count', ctypes.c_long), ('dbr', ctypes.c_void_p), ('status', ctypes.c_int)]


EVENT_CB = ctypes.CFUNCTYPE(None, EventArgs)
L.ca_create_subscription.argtypes = [ctypes.c_long, ctypes.c_ulong, chid, ctypes.c_long, EVENT_CB, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
L.ca_clear_subscription.argtypes = [ctypes.c_void_p]

# ca_enable_preemptive_callback: monitor callbacks run on libca's own threads.
assert L.ca_context_create(1) == ECA_NORMAL

CHANNELS = {}
MONITORS = {}
COUNTS = {}
KEEP = []
SIZE = DBR_SIZE[DBR_TIME_DOUBLE]
OFF = VALUE_OFFSET[DBR_TIME_DOUBLE]


def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def create(names, timeout=120.0):
    made = []
    for n in names:
        c = chid()
        st = L.ca_create_channel(n.encode(), None, None, 0, ctypes.byref(c))
        if st != ECA_NORMAL:
            raise RuntimeError(L.ca_message(st).decode())
        CHANNELS[n] = c
        made.append(c)
    st = L.ca_pend_io(timeout)
    return sum(1 for c in made if L.ca_state(c) != 2)  # cs_conn = 2


def op_connect(m):
    t0 = time.perf_counter()
    failed = create(m['names'])
    return {'ms': (time.perf_counter() - t0) * 1e3, 'failed': failed}


def op_clear(m):
    for n in m['names']:
        c = CHANNELS.pop(n, None)
        if c is not None:
            L.ca_clear_channel(c)
    L.ca_flush_io()
    return True


def op_bulk(m):
    chans = [CHANNELS[n] for n in m['names']]
    n = len(chans)
    buf = ctypes.create_string_buffer(SIZE * n)
    base = ctypes.addressof(buf)
    us = []
    get = L.ca_array_get
    pend = L.ca_pend_io
    for _ in range(m['samples']):
        t0 = time.perf_counter()
        for i, c in enumerate(chans):
            get(DBR_TIME_DOUBLE, 1, c, base + i * SIZE)
        st = pend(5.0)
        us.append((time.perf_counter() - t0) * 1e6)
        if st != ECA_NORMAL:
            raise RuntimeError('ca_pend_io: ' + L.ca_message(st).decode())
    values = [ctypes.c_double.from_address(base + i * SIZE + OFF).value for i in range(n)]
    return {'us': us, 'values': values}


def op_single(m):
    c = CHANNELS[m['name']]
    buf = ctypes.create_string_buffer(SIZE)
    addr = ctypes.addressof(buf)
    us = []
    for _ in range(m['samples']):
        t0 = time.perf_counter()
        L.ca_array_get(DBR_TIME_DOUBLE, 1, c, addr)
        st = L.ca_pend_io(5.0)
        us.append((time.perf_counter() - t0) * 1e6)
        if st != ECA_NORMAL:
            raise RuntimeError('ca_pend_io: ' + L.ca_message(st).decode())
    return {'us': us, 'value': ctypes.c_double.from_address(addr + OFF).value}


def op_memory(m):
    op_clear({'names': list(CHANNELS.keys())})
    time.sleep(0.2)
    names = m['names']
    r0 = rss()
    failed = create(names)
    time.sleep(0.2)
    r1 = rss()
    return {'failed': failed, 'bytesPerChannel': (r1 - r0) / len(names), 'rssPerChannel': (r1 - r0) / len(names)}


def op_monitor(m):
    name = m['name']
    if name not in CHANNELS:
        create([name], 10.0)
    COUNTS[name] = 0

    def cb(args, name=name):
        COUNTS[name] += 1

    f = EVENT_CB(cb)
    KEEP.append(f)
    ev = ctypes.c_void_p()
    st = L.ca_create_subscription(DBR_TIME_DOUBLE, 1, CHANNELS[name], 1 | 4, f, None, ctypes.byref(ev))
    if st != ECA_NORMAL:
        raise RuntimeError(L.ca_message(st).decode())
    L.ca_flush_io()
    MONITORS[name] = ev
    t0 = time.time()
    while COUNTS[name] < 1 and time.time() - t0 < 5:
        time.sleep(0.005)
    return True


def op_monitor_count(m):
    name = m['name']
    ev = MONITORS.pop(name, None)
    n = COUNTS.get(name, 1) - 1
    if ev is not None:
        L.ca_clear_subscription(ev)
        L.ca_flush_io()
    return {'received': n}


OPS = {'connect': op_connect, 'clear': op_clear, 'fresh': lambda m: True, 'bulk': op_bulk, 'single': op_single,
       'memory': op_memory, 'monitor': op_monitor, 'monitorCount': op_monitor_count}

sys.stdout.write(json.dumps({'ready': True}) + '\n')
sys.stdout.flush()
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    cmd = msg.get('command', {})
    if cmd.get('op') == 'quit':
        break
    try:
        out = {'id': msg['id'], 'ok': True, 'result': OPS[cmd['op']](cmd)}
    except Exception as e:  # reported to the benchmark
        out = {'id': msg['id'], 'ok': False, 'error': repr(e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
L.ca_context_destroy()
