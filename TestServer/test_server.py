"""Tests of the test server: start it as a subprocess and talk to it with pymongo.

Run: .venv/bin/python -m pytest TestServer/test_server.py
"""
import datetime
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import bson
import pymongo
import pytest
from bson import CodecOptions, DatetimeConversion
from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from bson.timestamp import Timestamp
from pymongo import monitoring
from pymongo.errors import (AutoReconnect, BulkWriteError, DuplicateKeyError, OperationFailure)
from pymongo.write_concern import WriteConcern

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'server.py')
RAW = CodecOptions(document_class=RawBSONDocument)
MS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)


def start(*args):
    proc = subprocess.Popen([sys.executable, SERVER, '--port', '0', *args],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith('listening on 127.0.0.1:'), line
    return proc, int(line.rsplit(':', 1)[1])


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


@pytest.fixture(scope='module')
def port():
    proc, port = start()
    yield port
    stop(proc)


def connect(port, **kw):
    kw.setdefault('retryWrites', False)
    kw.setdefault('retryReads', False)
    return pymongo.MongoClient(f'mongodb://127.0.0.1:{port}', serverSelectionTimeoutMS=5000, **kw)


@pytest.fixture
def db(port, request):
    client = connect(port)
    name = 't_' + request.node.name[:40].replace('[', '_').replace(']', '')
    yield client[name]
    client.drop_database(name)
    client.close()


def every_type_doc(_id=1):
    return {
        '_id': _id, 'double': 1.25, 'nan': float('nan'), 'inf': float('inf'), 'ninf': float('-inf'),
        'negzero': -0.0, 'string': 'héllo wörld ✓ 日本', 'doc': {'z': 1, 'a': {'nested': [1, 2]}},
        'array': [1, 'two', {'three': 3}, [4]], 'bin0': Binary(b'\x00\x01', 0),
        'bin3': Binary(uuid.uuid4().bytes, 3), 'bin4': Binary(uuid.uuid4().bytes, 4),
        'bin5': Binary(b'0123456789abcdef', 5), 'bin128': Binary(b'custom', 128),
        'oid': ObjectId(), 'true': True, 'false': False,
        'date_pre1970': DatetimeMS(-86400000 * 365 * 100), 'date_neg': DatetimeMS(-1),
        'date_far': DatetimeMS(253402300800000 + 1000), 'date_huge': DatetimeMS(2 ** 62),
        'date_now': DatetimeMS(1700000000123), 'null': None, 'regex': Regex('^a(b|c)*[', 'imsux'),
        'code': Code('function () { return 1; }'), 'int32': 5, 'int32neg': -2 ** 31,
        'int64small': Int64(5), 'int64big': Int64(2 ** 62), 'ts': Timestamp(1700000000, 7),
        'dec': Decimal128('-1.2300E+10'), 'decnan': Decimal128('NaN'), 'min': MinKey(),
        'max': MaxKey(), 'empty_doc': {}, 'empty_array': [], 'empty_string': '',
    }


def test_every_type_round_trips_byte_exactly(db):
    raw = bson.encode(every_type_doc(), codec_options=MS)
    coll = db.get_collection('c', codec_options=RAW)
    coll.insert_one(RawBSONDocument(raw))
    assert coll.find_one({'_id': 1}).raw == raw
    assert next(coll.find()).raw == raw
    # an update of one field leaves every other byte alone
    coll.update_one({'_id': 1}, {'$set': {'added': Int64(7)}})
    after = coll.find_one().raw
    assert after[4:len(raw) - 1] == raw[4:-1]
    added = bson.decode(after, MS)['added']
    assert added == 7 and isinstance(added, Int64)


def test_int64_stays_int64_through_inc(db):
    db.c.insert_one({'_id': 1, 'n': Int64(5), 'm': 5})
    db.c.update_one({'_id': 1}, {'$inc': {'n': 1, 'm': 1}})
    doc = db.c.find_one()
    assert type(doc['n']) is Int64 and doc['n'] == 6 and type(doc['m']) is int


def test_large_document(db):
    doc = {'_id': 'big', 'blob': Binary(os.urandom(16 * 1024 * 1024 - 100), 0)}
    raw = bson.encode(doc)
    coll = db.get_collection('big', codec_options=RAW)
    coll.insert_one(RawBSONDocument(raw))
    coll.insert_one({'_id': 'small'})
    assert [d.raw for d in coll.find({'_id': 'big'})] == [raw]
    assert len(list(coll.find())) == 2


def test_collection_names(db):
    for name in ('with.dots', 'with space', 'ünïcödé ✓', 'order', 'select'):
        db[name].insert_one({'_id': name})
        assert db[name].find_one()['_id'] == name
    assert sorted(db.list_collection_names()) == sorted(
        ['with.dots', 'with space', 'ünïcödé ✓', 'order', 'select'])


MIXED_IDS = [  # in MongoDB's BSON order
    MinKey(), None, float('nan'), float('-inf'), -5, 1.5, Int64(2), Decimal128('2.5'), 3, 'A', 'a',
    'é', {'a': 1}, {'a': 1, 'b': 1}, {'b': 0}, Binary(b'\x01', 0), Binary(b'\x00\x00', 0),
    Binary(b'\x00' * 16, 4), ObjectId('000000000000000000000000'), ObjectId(), False, True,
    datetime.datetime(1960, 1, 1), datetime.datetime(2020, 1, 1), Timestamp(1, 1), MaxKey(),
]


def test_mixed_id_sort_order(db):
    shuffled = list(MIXED_IDS)
    random.Random(7).shuffle(shuffled)
    db.c.insert_many([{'_id': i} for i in shuffled])
    got = [d['_id'] for d in db.c.find().sort('_id', 1)]
    assert bson.encode({'v': got}) == bson.encode({'v': MIXED_IDS})
    got = [d['_id'] for d in db.c.find().sort('_id', -1)]
    assert bson.encode({'v': got}) == bson.encode({'v': MIXED_IDS[::-1]})
    # natural order is insertion order
    assert bson.encode({'v': [d['_id'] for d in db.c.find()]}) == bson.encode({'v': shuffled})


def test_min_max_with_hint_spans_types(db):
    db.c.insert_many([{'_id': i} for i in MIXED_IDS])
    got = [d['_id'] for d in db.c.find().min([('_id', -5)]).max([('_id', ObjectId('0' * 24))])
           .hint([('_id', 1)])]
    assert bson.encode({'v': got}) == bson.encode({'v': MIXED_IDS[4:18]})
    got = [d['_id'] for d in db.c.find({'_id': {'$type': 'string'}}).min([('_id', MinKey())])
           .hint([('_id', 1)])]
    assert got == ['A', 'a', 'é']
    with pytest.raises(OperationFailure) as e:
        db.command('find', 'c', min={'_id': 1})  # min/max need a hint
    assert e.value.code == 51173


def test_getmore_streams_in_batches(db):
    db.c.insert_many([{'_id': i, 'pad': 'x' * 100} for i in range(10000)])
    listener = Recorder()
    client = connect(db.client.address[1], event_listeners=[listener])
    cursor = client[db.name].c.find(batch_size=700)
    assert [d['_id'] for d in cursor] == list(range(10000))
    getmores = [e for e in listener.replies if e.command_name == 'getMore']
    assert len(getmores) == 14  # 1 + 14 batches of up to 700
    assert all(len(e.reply['cursor']['nextBatch']) == 700 for e in getmores[:-1])
    assert getmores[-1].reply['cursor']['id'] == 0
    first = next(e for e in listener.replies if e.command_name == 'find')
    assert len(first.reply['cursor']['firstBatch']) == 700 and first.reply['cursor']['id'] != 0
    # default first batch is 101 documents
    assert len(db.command('find', 'c')['cursor']['firstBatch']) == 101
    client.close()


def test_bad_getmore_and_kill_cursors(db):
    db.c.insert_many([{'_id': i} for i in range(10)])
    with pytest.raises(OperationFailure) as e:
        db.command('getMore', Int64(123456789), collection='c')
    assert e.value.code == 43 and e.value.details['codeName'] == 'CursorNotFound'
    cid = db.command('find', 'c', batchSize=2)['cursor']['id']
    assert db.command('killCursors', 'c', cursors=[cid])['cursorsKilled'] == [cid]
    with pytest.raises(OperationFailure) as e:
        db.command('getMore', cid, collection='c')
    assert e.value.code == 43


class Recorder(monitoring.CommandListener):
    """Keeps the replies pymongo receives."""

    def __init__(self):
        self.replies = []

    def started(self, event):
        pass

    def succeeded(self, event):
        self.replies.append(event)

    def failed(self, event):
        pass


def test_bulk_unordered_with_duplicate(db):
    db.c.insert_one({'_id': 3})
    with pytest.raises(BulkWriteError) as e:
        db.c.insert_many([{'_id': i} for i in range(6)], ordered=False)
    d = e.value.details
    assert d['nInserted'] == 5
    assert [(w['index'], w['code']) for w in d['writeErrors']] == [(3, 11000)]
    err = d['writeErrors'][0]
    assert err['errmsg'] == (f'E11000 duplicate key error collection: {db.name}.c index: _id_ '
                             'dup key: { _id: 3 }')
    assert err['keyPattern'] == {'_id': 1} and err['keyValue'] == {'_id': 3}
    # ordered: stops at the first error
    with pytest.raises(BulkWriteError) as e:
        db.d.insert_many([{'_id': 1}, {'_id': 1}, {'_id': 2}])
    assert e.value.details['nInserted'] == 1 and db.d.count_documents({}) == 1
    # mixed bulk_write
    res = db.c.bulk_write([
        pymongo.InsertOne({'_id': 10}), pymongo.UpdateOne({'_id': 1}, {'$set': {'x': 1}}),
        pymongo.ReplaceOne({'_id': 'up'}, {'y': 2}, upsert=True), pymongo.DeleteOne({'_id': 2}),
        pymongo.UpdateMany({'_id': {'$gte': 4}}, {'$set': {'z': 1}})], ordered=False)
    assert (res.inserted_count, res.matched_count, res.modified_count, res.deleted_count) == \
        (1, 4, 4, 1)
    assert res.upserted_ids == {2: 'up'} and db.c.find_one({'_id': 'up'}) == {'_id': 'up', 'y': 2}


def test_unique_index_enforced(db):
    db.c.create_index('email', unique=True)
    db.c.insert_one({'_id': 1, 'email': 'a'})
    with pytest.raises(DuplicateKeyError) as e:
        db.c.insert_one({'_id': 2, 'email': 'a'})
    assert 'index: email_1 dup key: { email: "a" }' in str(e.value)
    db.c.insert_one({'_id': 3, 'email': 'b'})
    with pytest.raises(DuplicateKeyError):
        db.c.update_one({'_id': 3}, {'$set': {'email': 'a'}})
    assert db.c.find_one({'_id': 3})['email'] == 'b'
    db.c.delete_one({'_id': 1})
    db.c.update_one({'_id': 3}, {'$set': {'email': 'a'}})  # free now
    db.d.insert_many([{'k': 1}, {'k': 1}])
    with pytest.raises(OperationFailure) as e:
        db.d.create_index('k', unique=True)
    assert e.value.code == 11000


def test_list_indexes_keeps_names_and_options(db):
    db.c.create_index([('a', 1), ('b', -1)], name='my_ab', unique=True, sparse=True)
    db.c.create_index('t', expireAfterSeconds=3600)
    db.c.create_index('p', partialFilterExpression={'p': {'$exists': True}})
    assert list(db.c.list_indexes()) == [
        {'v': 2, 'key': {'_id': 1}, 'name': '_id_'},
        {'v': 2, 'key': {'a': 1, 'b': -1}, 'name': 'my_ab', 'unique': True, 'sparse': True},
        {'v': 2, 'key': {'t': 1}, 'name': 't_1', 'expireAfterSeconds': 3600},
        {'v': 2, 'key': {'p': 1}, 'name': 'p_1', 'partialFilterExpression': {'p': {'$exists': True}}}]
    db.c.drop_index('t_1')
    assert [i['name'] for i in db.c.list_indexes()] == ['_id_', 'my_ab', 'p_1']
    with pytest.raises(OperationFailure) as e:
        db.command('listIndexes', 'missing')  # (pymongo's list_indexes hides code 26)
    assert e.value.code == 26


def test_collections_and_databases(db):
    db.command('create', 'capped', capped=True, size=4096)
    with pytest.raises(OperationFailure) as e:
        db.command('create', 'capped')
    assert e.value.code == 48
    info = db.command('listCollections', filter={'name': 'capped'})['cursor']['firstBatch']
    assert len(info) == 1 and info[0]['options'] == {'capped': True, 'size': 4096}
    assert info[0]['info']['uuid'].subtype == 4 and info[0]['idIndex']['name'] == '_id_'
    assert db.name in db.client.list_database_names()
    db.drop_collection('nope')  # ok in 7.0
    db.drop_collection('capped')
    assert db.name not in db.client.list_database_names()


def test_queries_and_writes(db):
    db.c.insert_many([{'_id': i, 'g': i % 3, 'tags': ['t%d' % (i % 2)]} for i in range(30)])
    assert db.c.count_documents({'g': 1}) == 10
    assert db.command('count', 'c', query={'g': 2})['n'] == 10
    assert sorted(db.c.distinct('tags')) == ['t0', 't1']
    assert [d['_id'] for d in db.c.find({'g': 0}, {'_id': 1}).sort('_id', -1).skip(1).limit(2)] \
        == [24, 21]
    assert db.c.find_one({'_id': 4}, {'g': 1, '_id': 0}) == {'g': 1}
    agg = list(db.c.aggregate([{'$match': {'_id': {'$lt': 9}}}, {'$group': {'_id': '$g', 'n':
                              {'$sum': 1}}}, {'$sort': {'_id': 1}}]))
    assert agg == [{'_id': 0, 'n': 3}, {'_id': 1, 'n': 3}, {'_id': 2, 'n': 3}]
    assert list(db.c.aggregate([{'$match': {'g': 1}}, {'$count': 'n'}])) == [{'n': 10}]
    r = db.c.update_many({'g': 1}, {'$inc': {'x': 2}})
    assert (r.matched_count, r.modified_count) == (10, 10)
    assert db.c.update_one({'_id': 1}, {'$set': {'x': 2}}).modified_count == 0
    r = db.c.update_one({'_id': 'new', 'k': 5}, {'$set': {'v': 1}}, upsert=True)
    assert r.upserted_id == 'new' and db.c.find_one({'_id': 'new'}) == {'_id': 'new', 'k': 5, 'v': 1}
    doc = db.c.find_one_and_update({'g': 2}, {'$set': {'y': 1}}, sort=[('_id', -1)],
                                   return_document=pymongo.ReturnDocument.AFTER)
    assert doc == {'_id': 29, 'g': 2, 'tags': ['t1'], 'y': 1}
    assert db.c.find_one_and_delete({'_id': 29})['_id'] == 29
    assert db.c.delete_many({'g': 0}).deleted_count == 10
    stats = db.command('dbStats')
    sizes = sum(len(bson.encode(d)) for d in db.c.find())
    assert stats['objects'] == 20 and stats['dataSize'] == sizes and stats['collections'] == 1


def test_unknown_command(db):
    with pytest.raises(OperationFailure) as e:
        db.command('fooBar')
    assert e.value.code == 59 and e.value.details['codeName'] == 'CommandNotFound'
    assert e.value.details['errmsg'] == "no such command: 'fooBar'"


def test_hello(db):
    hello = db.client.admin.command('hello')
    assert hello['isWritablePrimary'] is True and hello['maxWireVersion'] == 21
    assert 'topologyVersion' not in hello and 'compression' not in hello
    assert db.client.admin.command('buildInfo')['versionArray'] == [7, 0, 12, 0]


def test_failcommand_close_connection_and_app_name(port):
    victim = connect(port, appname='victim')
    bystander = connect(port, appname='bystander')
    victim.fp.c.insert_one({'_id': 0})
    victim.admin.command('configureFailPoint', 'failCommand', mode={'times': 1}, data={
        'failCommands': ['insert', 'find'], 'closeConnection': True, 'appName': 'victim'})
    bystander.fp.c.insert_one({'_id': 'b'})  # other applications are not affected
    with pytest.raises(AutoReconnect):
        victim.fp.c.insert_one({'_id': 1})
    victim.fp.c.insert_one({'_id': 2})  # times: 1 is used up
    assert victim.fp.c.count_documents({}) == 3
    victim.drop_database('fp')


def test_failcommand_error_code_times_and_block(port):
    client = connect(port, appname='errs')
    client.fp2.c.insert_one({'_id': 1})
    client.admin.command('configureFailPoint', 'failCommand', mode={'times': 2}, data={
        'failCommands': ['find'], 'errorCode': 50, 'errorLabels': ['Custom'], 'appName': 'errs'})
    for _ in range(2):
        with pytest.raises(OperationFailure) as e:
            client.fp2.c.find_one()
        assert e.value.code == 50 and e.value.has_error_label('Custom')
        assert e.value.details['errmsg'] == "Failing command via 'failCommand' failpoint"
        assert e.value.details['codeName'] == 'MaxTimeMSExpired'
    assert client.fp2.c.find_one() == {'_id': 1}
    client.admin.command('configureFailPoint', 'failCommand', mode='alwaysOn', data={
        'failCommands': ['ping'], 'blockConnection': True, 'blockTimeMS': 300, 'appName': 'errs'})
    t = time.monotonic()
    client.admin.command('ping')
    assert time.monotonic() - t >= 0.3
    client.admin.command('configureFailPoint', 'failCommand', mode='off')
    client.drop_database('fp2')


def test_version_flag():
    proc, port = start('--version', '4.2.0')
    try:
        client = connect(port)
        info = client.admin.command('buildInfo')
        assert info['version'] == '4.2.0' and info['versionArray'] == [4, 2, 0, 0]
        assert client.admin.command('isMaster')['maxWireVersion'] == 8
    finally:
        stop(proc)


def test_data_dir_survives_sigterm_restart(tmp_path):
    raw = bson.encode(every_type_doc('x'), codec_options=MS)
    proc, port = start('--data', str(tmp_path))
    client = connect(port)
    client.p.get_collection('c', codec_options=RAW).insert_one(RawBSONDocument(raw))
    client.p.c.create_index('double', name='d_idx', unique=True)
    client.p.create_collection('with.dot', capped=True, size=8192)
    client.close()
    stop(proc)
    proc, port = start('--data', str(tmp_path))
    try:
        client = connect(port)
        assert client.p.get_collection('c', codec_options=RAW).find_one().raw == raw
        assert [i['name'] for i in client.p.c.list_indexes()] == ['_id_', 'd_idx']
        assert client.p['with.dot'].options() == {'capped': True, 'size': 8192}
        with pytest.raises(DuplicateKeyError):  # the unique index is enforced after reload
            client.p.c.insert_one({'double': 1.25})
    finally:
        stop(proc)


def test_unacknowledged_write(db):
    db.c.with_options(write_concern=WriteConcern(w=0)).insert_one({'_id': 'w0'})
    deadline = time.monotonic() + 5
    while db.c.find_one({'_id': 'w0'}) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_legacy_op_query_handshake_and_checksum(port):
    with socket.create_connection(('127.0.0.1', port)) as s:
        q = bson.encode({'isMaster': 1, 'client': {'application': {'name': 'raw'}}})
        body = struct.pack('<i', 0) + b'admin.$cmd\0' + struct.pack('<ii', 0, -1) + q
        s.sendall(struct.pack('<iiii', 16 + len(body), 7, 0, 2004) + body)
        length, _, response_to, opcode = struct.unpack('<iiii', recv(s, 16))
        data = recv(s, length - 16)
        assert (response_to, opcode) == (7, 1)
        flags, cursor_id, start_from, n = struct.unpack('<iqii', data[:20])
        reply = bson.decode(data[20:])
        assert n == 1 and reply['ismaster'] is True and 'compression' not in reply
        # OP_MSG with checksumPresent: the 4-byte checksum is stripped, not parsed as a section
        cmd = bson.encode({'ping': 1, '$db': 'admin'})
        body = struct.pack('<I', 1) + b'\0' + cmd + b'\xde\xad\xbe\xef'
        s.sendall(struct.pack('<iiii', 16 + len(body), 8, 0, 2013) + body)
        length, _, response_to, opcode = struct.unpack('<iiii', recv(s, 16))
        data = recv(s, length - 16)
        assert (response_to, opcode) == (8, 2013) and data[:5] == b'\0\0\0\0\0'
        assert bson.decode(data[5:]) == {'ok': 1.0}


def recv(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk
        buf += chunk
    return buf


def test_concurrent_clients(port):
    errors = []

    def work(k):
        try:
            c = connect(port)
            c.conc[f'c{k}'].insert_many([{'_id': i} for i in range(500)])
            assert c.conc[f'c{k}'].count_documents({}) == 500
            c.close()
        except Exception as e:  # pragma: no cover
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    connect(port).drop_database('conc')


def test_id_conditions_use_bson_order_with_type_bracketing(db):
    db.c.insert_many([{'_id': i} for i in MIXED_IDS])
    got = [d['_id'] for d in db.c.find({'_id': {'$gt': 2}}).sort('_id', 1)]
    assert bson.encode({'v': got}) == bson.encode({'v': [Decimal128('2.5'), 3]})
    got = [d['_id'] for d in db.c.find({'_id': {'$lt': 'b'}}).sort('_id', -1)]
    assert got == ['a', 'A']
    assert [d['_id'] for d in db.c.find({'_id': {'$in': ['a', 3, 'zzz']}})] == [3, 'a']
    assert db.c.find_one({'_id': 2.0})['_id'] == 2  # 2.0 == Int64(2)


def test_type_queries(db):
    db.c.insert_many([{'_id': 1, 'v': 5}, {'_id': 2, 'v': Int64(5)}, {'_id': 3, 'v': 5.0},
                      {'_id': 4, 'v': Decimal128('5')}, {'_id': 5, 'v': Timestamp(1, 1)},
                      {'_id': 6, 'v': DatetimeMS(2 ** 62)}, {'_id': 7, 'v': Code('x')}])
    ids = lambda t: [d['_id'] for d in db.c.find({'v': {'$type': t}}, {'_id': 1})]  # noqa: E731
    assert (ids('int'), ids('long'), ids('double'), ids('decimal')) == ([1], [2], [3], [4])
    assert (ids('timestamp'), ids('date'), ids('javascript'), ids(18)) == ([5], [6], [7], [2])
    assert ids('number') == [1, 2, 3, 4]
    assert [d['_id'] for d in db.c.find({'v': {'$gt': DatetimeMS(0)}}, {'_id': 1})] == [6]


def test_batch_size_zero_and_natural_order(db):
    db.c.insert_many([{'_id': i} for i in (3, 1, 2)])
    reply = db.command('find', 'c', batchSize=0)
    assert reply['cursor']['firstBatch'] == [] and reply['cursor']['id'] != 0
    more = db.command('getMore', reply['cursor']['id'], collection='c')['cursor']
    assert [d['_id'] for d in more['nextBatch']] == [3, 1, 2] and more['id'] == 0
    assert [d['_id'] for d in db.c.find().sort('$natural', -1)] == [2, 1, 3]


def test_upserts_put_id_first(db):
    db.c.update_one({'k': 1, 'n': {'$gt': 0}}, {'$set': {'v': 1}}, upsert=True)
    assert list(db.c.find_one({'k': 1})) == ['_id', 'k', 'v']
    db.c.update_one({'_id': 7}, {'$setOnInsert': {'a': 1}}, upsert=True)
    assert db.c.find_one({'_id': 7}) == {'_id': 7, 'a': 1}
    db.c.replace_one({'x': 1}, {'y': 1}, upsert=True)
    assert isinstance(db.c.find_one({'y': 1})['_id'], ObjectId)
    # a document inserted with _id not first gets it moved to the front, as mongod does
    db.d.insert_one(RawBSONDocument(bson.encode({'a': 1, '_id': 'x'})))
    assert list(db.d.find_one()) == ['_id', 'a']
    with pytest.raises(OperationFailure) as e:
        db.c.replace_one({'_id': 7}, {'_id': 8})
    assert e.value.code == 66


def test_multikey_unique_index(db):
    db.c.create_index('tags', unique=True)
    db.c.insert_one({'_id': 1, 'tags': ['a', 'b']})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({'_id': 2, 'tags': ['c', 'b']})
    db.c.insert_one({'_id': 3, 'tags': ['c']})
    db.c.insert_one({'_id': 4})
    with pytest.raises(DuplicateKeyError):  # a missing field is null in a (non-sparse) index
        db.c.insert_one({'_id': 5})
    db.d.create_index('opt', unique=True, sparse=True)
    db.d.insert_many([{'_id': 4}, {'_id': 5}])  # sparse: missing fields are not indexed


def test_insert_command_with_documents_in_body(db):
    raw = bson.encode(every_type_doc(), codec_options=MS)
    reply = db.command('insert', 'c', documents=[RawBSONDocument(raw), {'_id': 2}])
    assert reply['n'] == 2
    assert db.get_collection('c', codec_options=RAW).find_one({'_id': 1}).raw == raw
