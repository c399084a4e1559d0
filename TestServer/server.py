#!/usr/bin/env python3
"""A small MongoDB-compatible test server (see README.md).

    python3 TestServer/server.py --port 0 [--host 127.0.0.1] [--version 7.0.12] [--data DIR]

Prints exactly one line, `listening on HOST:PORT`, to stdout once it accepts connections;
everything else goes to stderr. SIGTERM / SIGINT: stop, save --data, exit 0.

This file is the wire front: OP_MSG (both ways) and the legacy OP_QUERY handshake answered
with OP_REPLY, one thread per connection, and the failCommand failpoint.
"""
import argparse
import itertools
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback

import bson

import commands
import engine
from engine import LOCK, CommandError, decode

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
CHECKSUM_PRESENT, MORE_TO_COME = 1 << 0, 1 << 1
HEADER = struct.Struct('<iiii')  # messageLength, requestID, responseTo, opCode
NEVER_FAILED = {'configureFailPoint'}
VERBOSE = False
log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731


# ---------------------------------------------------------------- failCommand failpoint

class FailPoint:
    """MongoDB's failCommand: {configureFailPoint: 'failCommand', mode, data}."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.data, self.count = 'off', {}, 0

    def configure(self, cmd):
        if cmd['configureFailPoint'] != 'failCommand':
            raise CommandError(2, f"Cannot find FailPoint named {cmd['configureFailPoint']!r}")
        mode = cmd.get('mode')
        if not (mode in ('off', 'alwaysOn') or isinstance(mode, dict) and
                set(mode) <= {'times', 'skip', 'activationProbability'}):
            raise CommandError(2, f'unknown failpoint mode: {mode!r}')
        with self.lock:
            before = self.count
            self.mode, self.data, self.count = mode, dict(cmd.get('data') or {}), 0
        return {'count': before}

    def check(self, name, app_name):
        """The failpoint's data if it fires for this command on this connection, else None."""
        with self.lock:
            d, mode = self.data, self.mode
            if mode == 'off' or name in NEVER_FAILED or name not in d.get('failCommands', []):
                return None
            if d.get('appName') and d['appName'] != app_name:
                return None  # tests run in parallel: only the connections of that app fail
            if isinstance(mode, dict):
                if mode.get('skip', 0) > 0:
                    mode['skip'] -= 1
                    return None
                if 'times' in mode:
                    if mode['times'] <= 0:
                        return None
                    mode['times'] -= 1
                    if mode['times'] == 0:
                        self.mode = 'off'
            self.count += 1
            return d


FAILPOINT = FailPoint()


@commands.command('configureFailPoint')
def cmd_configure_fail_point(ctx, cmd):
    return FAILPOINT.configure(cmd)


# ---------------------------------------------------------------- connections

class Close(Exception):
    """Close the connection without replying (failCommand closeConnection)."""


class Context:
    """Per-connection state plus the raw pieces of the current message."""
    ids = itertools.count(1)
    open_count = 0

    def __init__(self):
        self.conn_id, self.app_name = next(Context.ids), None
        self.db, self.body, self.seqs = 'admin', b'', {}

    @staticmethod
    def server_conns():
        return Context.open_count


def handle_command(ctx, db, body, seqs):
    """Decode and run one command (body: raw BSON; seqs: OP_MSG kind-1 sections, raw)."""
    try:
        cmd = decode(body)
        for ident, docs in seqs.items():
            if ident != 'documents':  # insert reads its documents raw, for byte-exact storage
                cmd[ident] = [decode(d) for d in docs]
    except CommandError as e:
        return e.reply()
    name = next(iter(cmd), '')
    ctx.db, ctx.body, ctx.seqs = cmd.get('$db', db), body, seqs
    if VERBOSE:
        log(f'conn {ctx.conn_id} {ctx.db} {name} sequences={ {k: len(v) for k, v in seqs.items()} }')
    fp = FAILPOINT.check(name, ctx.app_name)
    if fp:
        if fp.get('blockConnection'):
            time.sleep(fp.get('blockTimeMS', 0) / 1000)
        if fp.get('closeConnection'):
            raise Close()
        if 'errorCode' in fp:
            err = CommandError(fp['errorCode'], "Failing command via 'failCommand' failpoint")
            reply = err.reply()
            if fp.get('errorLabels'):
                reply['errorLabels'] = fp['errorLabels']
            return reply
    with LOCK:
        try:
            reply = commands.run(ctx, name, cmd)
        except Exception as e:  # a bug in the test server: say so, keep serving
            log(f'error in {name}: {traceback.format_exc()}')
            reply = CommandError(1, f'test server internal error in {name}: {e!r}').reply()
    if fp and fp.get('writeConcernError'):
        reply['writeConcernError'] = fp['writeConcernError']
    return reply


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = sock.makefile('rb')
        ctx = Context()
        with LOCK:
            Context.open_count += 1
        try:
            while True:
                header = rfile.read(16)
                if len(header) < 16:
                    return
                length, request_id, _, opcode = HEADER.unpack(header)
                data = rfile.read(length - 16)
                if opcode == OP_MSG:
                    self.op_msg(ctx, request_id, data)
                elif opcode == OP_QUERY:
                    self.op_query(ctx, request_id, data)
                else:
                    log(f'unsupported opcode {opcode}; closing connection')
                    return
        except Close:
            sock.shutdown(socket.SHUT_RDWR)
        except (ConnectionError, OSError):
            pass
        finally:
            with LOCK:
                Context.open_count -= 1

    def send(self, request_id, opcode, payload):
        header = HEADER.pack(16 + len(payload), next(REQUEST_IDS), request_id, opcode)
        self.request.sendall(header + payload)

    def op_msg(self, ctx, request_id, data):
        flags = struct.unpack_from('<I', data)[0]
        end = len(data) - (4 if flags & CHECKSUM_PRESENT else 0)
        pos, body, seqs = 4, None, {}
        while pos < end:
            kind, size = data[pos], struct.unpack_from('<i', data, pos + 1)[0]
            if kind == 0:  # the command body
                body = data[pos + 1:pos + 1 + size]
            else:  # kind 1: identifier + a sequence of documents, e.g. insert's `documents`
                section_end = pos + 1 + size
                name_end = data.index(b'\0', pos + 5)
                docs, p = [], name_end + 1
                while p < section_end:
                    n = struct.unpack_from('<i', data, p)[0]
                    docs.append(data[p:p + n])
                    p += n
                seqs[data[pos + 5:name_end].decode()] = docs
            pos += 1 + size
        reply = handle_command(ctx, 'admin', body, seqs)
        if VERBOSE:
            log(f'conn {ctx.conn_id} OP_MSG flags={flags:#x} ok={reply.get("ok")}')
        if not flags & MORE_TO_COME:  # moreToCome (w:0): the client expects no reply
            self.send(request_id, OP_MSG, struct.pack('<I', 0) + b'\0' + bson.encode(reply))

    def op_query(self, ctx, request_id, data):
        # flags, fullCollectionName, numberToSkip, numberToReturn, query
        ns_end = data.index(b'\0', 4)
        ns = data[4:ns_end].decode()
        query = data[ns_end + 9:]
        query = query[:struct.unpack_from('<i', query)[0]]
        cmd = decode(query)
        if '$query' in cmd:  # a wrapped command: {$query: {...}, $readPreference: ...}
            cmd = cmd['$query']
            query = bson.encode(cmd)
        name = next(iter(cmd), '')
        if VERBOSE:
            log(f'conn {ctx.conn_id} OP_QUERY {ns} {name}')
        if ns.endswith('.$cmd') and name in ('hello', 'isMaster', 'ismaster'):
            reply = handle_command(ctx, ns.split('.', 1)[0], query, {})
        else:  # MongoDB 6.0+ accepts OP_QUERY only for the handshake
            reply = CommandError(352, f'Unsupported OP_QUERY command: {name}. The client driver '
                                      'may require an upgrade.').reply()
        # OP_REPLY: responseFlags, cursorID, startingFrom, numberReturned, documents
        self.send(request_id, OP_REPLY, struct.pack('<iqii', 0, 0, 0, 1) + bson.encode(reply))


REQUEST_IDS = itertools.count(1)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a connection never holds up shutdown
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0, help='0 picks a free port')
    ap.add_argument('--version', default='7.0.12', help='MongoDB version to report')
    ap.add_argument('--data', help='load state from DIR at start, save it there on clean shutdown')
    ap.add_argument('-v', '--verbose', action='store_true', help='log every message to stderr')
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    commands.SETTINGS['version'] = args.version
    try:
        commands.wire_version()
    except (KeyError, ValueError):
        ap.error(f'unsupported --version {args.version}; known: '
                 + ', '.join(f'{a}.{b}' for a, b in commands.WIRE_VERSIONS))
    if args.data:
        engine.load(args.data)
    engine.seed_system(args.version)

    server = Server((args.host, args.port), Handler)
    commands.SETTINGS['port'] = port = server.server_address[1]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f'listening on {args.host}:{port}', flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    if args.data:
        with LOCK:
            engine.save(args.data)
    log('test server stopped')
    return 0


if __name__ == '__main__':
    code = main()
    # Everything worth keeping is saved; exit now rather than wait for a client's connection
    # thread still blocked in a read (a pooled driver keeps idle connections open).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
