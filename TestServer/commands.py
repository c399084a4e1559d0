"""The database commands, answered the way a MongoDB 7.0 standalone answers them.

Each handler takes (ctx, cmd) — the connection context and the decoded command body — and
returns the reply document (ok: 1 is added) or raises CommandError. Handlers run under
engine.LOCK. Documents go out as RawBSONDocument wrapping the stored bytes: byte-exact.
"""
import datetime
import itertools
import os
import random
import socket
import time
from collections.abc import Mapping

import bson
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from mongomock import aggregate as mm_aggregate

from engine import (DBS, MAX_BSON, CommandError, applies, apply_update, bkey, check_name,
                    decode, drop_coll, get_coll, id_first, path_values, project, sort_items)

SETTINGS = {'version': '7.0.12', 'port': 0, 'started': time.time()}
WIRE_VERSIONS = {(3, 6): 6, (4, 0): 7, (4, 2): 8, (4, 4): 9, (5, 0): 13, (6, 0): 17,
                 (7, 0): 21, (8, 0): 25}
# Generic fields any command may carry; they never become e.g. collection options.
GENERIC = {'$db', 'lsid', '$readPreference', '$clusterTime', 'txnNumber', 'writeConcern',
           'readConcern', 'maxTimeMS', 'comment', 'apiVersion', 'apiStrict',
           'apiDeprecationErrors', 'autocommit', '$audit', '$client', 'mayBypassWriteBlocking'}
ADMIN_ONLY = {'listDatabases', 'configureFailPoint', 'renameCollection'}
HANDLERS = {}


def command(*names):
    def register(fn):
        for n in names:
            HANDLERS[n] = fn
        return fn
    return register


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def wire_version():
    major, minor = (int(x) for x in SETTINGS['version'].split('.')[:2])
    return WIRE_VERSIONS[(major, minor)]


# ---------------------------------------------------------------- cursors

CURSORS = {}  # id -> Cursor


class Cursor:
    """A server-side cursor over a lazy iterator of raw documents: batches are made on demand."""

    def __init__(self, ns, items):
        self.ns, self.items, self.pending = ns, iter(items), None
        self.id = random.getrandbits(62) + 1

    def batch(self, n):
        """Up to n documents (None = no count limit) and at most 16 MiB; then look one ahead
        to know whether the cursor is exhausted (so the last batch can carry id 0)."""
        out, size = [], 0
        while n is None or len(out) < n:
            raw = self.pending if self.pending is not None else next(self.items, None)
            self.pending = None
            if raw is None:
                break
            if out and size + len(raw) > MAX_BSON:
                self.pending = raw
                break
            out.append(RawBSONDocument(raw))
            size += len(raw)
        if self.pending is None:
            self.pending = next(self.items, None)
        return out, self.pending is not None


def cursor_reply(ns, items, batch_size=101, single_batch=False):
    cur = Cursor(ns, items)
    docs, more = cur.batch(batch_size if batch_size is not None else 101)
    if more and not single_batch:
        CURSORS[cur.id] = cur
    return {'cursor': {'firstBatch': docs, 'id': Int64(cur.id if more and not single_batch else 0),
                       'ns': ns}}


@command('getMore')
def cmd_get_more(ctx, cmd):
    cid = int(cmd['getMore'])
    cur = CURSORS.get(cid)
    if cur is None:
        raise CommandError(43, f'cursor id {cid} not found')
    docs, more = cur.batch(cmd.get('batchSize') or None)  # getMore: 0 or absent = no limit
    if not more:
        CURSORS.pop(cid, None)
    return {'cursor': {'nextBatch': docs, 'id': Int64(cid if more else 0), 'ns': cur.ns}}


@command('killCursors')
def cmd_kill_cursors(ctx, cmd):
    ids = [int(i) for i in cmd.get('cursors', [])]
    killed = [Int64(i) for i in ids if CURSORS.pop(i, None) is not None]
    return {'cursorsKilled': killed, 'cursorsNotFound': [Int64(i) for i in ids if Int64(i) not in killed],
            'cursorsAlive': [], 'cursorsUnknown': []}


# ---------------------------------------------------------------- server / handshake

@command('hello', 'isMaster', 'ismaster')
def cmd_hello(ctx, cmd):
    app = cmd.get('client', {}).get('application', {}).get('name')
    if app:
        ctx.app_name = app  # for failCommand's appName filter
    # No topologyVersion: it would switch libmongoc to awaitable hello with exhaust replies.
    primary = {'isWritablePrimary': True} if next(iter(cmd)) == 'hello' else {'ismaster': True}
    return {**({'helloOk': True} if cmd.get('helloOk') else {}), **primary,
            'maxBsonObjectSize': MAX_BSON, 'maxMessageSizeBytes': 48000000,
            'maxWriteBatchSize': 100000, 'localTime': now(), 'logicalSessionTimeoutMinutes': 30,
            'connectionId': ctx.conn_id, 'minWireVersion': 0, 'maxWireVersion': wire_version(),
            'readOnly': False}


@command('ping', 'endSessions', 'refreshSessions', 'killSessions', 'killAllSessions')
def cmd_ok(ctx, cmd):
    return {}


@command('buildInfo', 'buildinfo')
def cmd_build_info(ctx, cmd):
    v = SETTINGS['version']
    nums = [int(x) for x in v.split('-')[0].split('.')] + [0, 0, 0]
    return {'version': v, 'gitVersion': '0' * 40, 'modules': [], 'allocator': 'system',
            'javascriptEngine': 'none', 'sysInfo': 'deprecated', 'versionArray': nums[:3] + [0],
            'bits': 64, 'debug': False, 'maxBsonObjectSize': MAX_BSON, 'storageEngines': ['memory']}


@command('serverStatus')
def cmd_server_status(ctx, cmd):
    up = time.time() - SETTINGS['started']
    return {'host': f"{socket.gethostname()}:{SETTINGS['port']}", 'version': SETTINGS['version'],
            'process': 'mongod', 'pid': Int64(os.getpid()), 'uptime': float(int(up)),
            'uptimeMillis': Int64(int(up * 1000)), 'uptimeEstimate': Int64(int(up)),
            'localTime': now(), 'connections': {'current': ctx.server_conns(), 'available': 50000}}


@command('connectionStatus')
def cmd_connection_status(ctx, cmd):
    return {'authInfo': {'authenticatedUsers': [], 'authenticatedUserRoles': []}}


@command('commitTransaction', 'abortTransaction')
def cmd_txn(ctx, cmd):
    raise CommandError(20, 'Transaction numbers are only allowed on a replica set member or mongos')


# ---------------------------------------------------------------- databases and collections

def db_size(colls):
    return sum(len(raw) for c in colls.values() for raw in c.docs.values())


@command('listDatabases')
def cmd_list_databases(ctx, cmd):
    entries = [{'name': n, 'sizeOnDisk': Int64(db_size(c)), 'empty': False} for n, c in sorted(DBS.items())]
    entries = [e for e in entries if applies(cmd.get('filter') or {}, e)]
    if cmd.get('nameOnly'):
        return {'databases': [{'name': e['name']} for e in entries]}
    total = sum(e['sizeOnDisk'] for e in entries)
    return {'databases': entries, 'totalSize': Int64(total), 'totalSizeMb': Int64(total >> 20)}


def coll_info(c):
    return {'name': c.name, 'type': 'collection', 'options': c.options,
            'info': {'readOnly': False, 'uuid': c.uuid}, 'idIndex': c.indexes[0]}


@command('listCollections')
def cmd_list_collections(ctx, cmd):
    infos = [coll_info(c) for c in DBS.get(ctx.db, {}).values()]
    infos = [i for i in infos if applies(cmd.get('filter') or {}, i)]
    if cmd.get('nameOnly'):
        infos = [{'name': i['name'], 'type': i['type']} for i in infos]
    return cursor_reply(f'{ctx.db}.$cmd.listCollections', (bson.encode(i) for i in infos),
                        cmd.get('cursor', {}).get('batchSize'))


@command('create')
def cmd_create(ctx, cmd):
    name = cmd['create']
    if get_coll(ctx.db, name):
        raise CommandError(48, f'Collection {ctx.db}.{name} already exists.')
    if 'viewOn' in cmd:
        raise CommandError(115, 'views are not supported by the test server')
    get_coll(ctx.db, name, create=True).options = {
        k: v for k, v in cmd.items() if k != 'create' and k not in GENERIC}
    return {}


@command('drop')
def cmd_drop(ctx, cmd):
    coll = drop_coll(ctx.db, cmd['drop'])  # 7.0: dropping a missing collection is ok
    return {'nIndexesWas': len(coll.indexes), 'ns': coll.ns} if coll else {}


@command('dropDatabase')
def cmd_drop_database(ctx, cmd):
    DBS.pop(ctx.db, None)
    return {}


@command('renameCollection')
def cmd_rename(ctx, cmd):
    (sdb, sname), (tdb, tname) = (cmd[k].split('.', 1) for k in ('renameCollection', 'to'))
    coll = get_coll(sdb, sname)
    if coll is None:
        raise CommandError(26, 'Source collection does not exist')
    check_name(tdb, tname)
    if get_coll(tdb, tname):
        if not cmd.get('dropTarget'):
            raise CommandError(48, 'target namespace exists')
        drop_coll(tdb, tname)
    drop_coll(sdb, sname)
    coll.db, coll.name = tdb, tname
    DBS.setdefault(tdb, {})[tname] = coll
    return {}


def need_coll(ctx, name):
    coll = get_coll(ctx.db, name)
    if coll is None:
        raise CommandError(26, f'ns does not exist: {ctx.db}.{name}')
    return coll


@command('dbStats')
def cmd_db_stats(ctx, cmd):
    colls = DBS.get(ctx.db, {})
    objects = sum(len(c.docs) for c in colls.values())
    size = db_size(colls)
    nidx = sum(len(c.indexes) for c in colls.values())
    return {'db': ctx.db, 'collections': len(colls), 'views': 0, 'objects': objects,
            'avgObjSize': size / objects if objects else 0.0, 'dataSize': float(size),
            'storageSize': float(size), 'indexes': nidx, 'indexSize': 0.0, 'totalSize': float(size),
            'scaleFactor': 1}


@command('collStats')
def cmd_coll_stats(ctx, cmd):
    c = need_coll(ctx, cmd['collStats'])
    size = sum(len(r) for r in c.docs.values())
    return {'ns': c.ns, 'size': size, 'count': len(c.docs),
            'avgObjSize': size // len(c.docs) if c.docs else 0, 'storageSize': size,
            'nindexes': len(c.indexes), 'indexSizes': {i['name']: 0 for i in c.indexes},
            'totalIndexSize': 0, 'capped': bool(c.options.get('capped')), 'scaleFactor': 1}


# ---------------------------------------------------------------- indexes

@command('listIndexes')
def cmd_list_indexes(ctx, cmd):
    c = need_coll(ctx, cmd['listIndexes'])
    return cursor_reply(c.ns, (bson.encode(i) for i in c.indexes),
                        cmd.get('cursor', {}).get('batchSize'))


def same_options(a, b):
    strip = lambda s: {k: v for k, v in s.items() if k not in ('v', 'name', 'key')}  # noqa: E731
    return bson.encode(strip(a)) == bson.encode(strip(b))


@command('createIndexes')
def cmd_create_indexes(ctx, cmd):
    created = get_coll(ctx.db, cmd['createIndexes']) is None
    c = get_coll(ctx.db, cmd['createIndexes'], create=True)
    before = len(c.indexes)
    for req in cmd['indexes']:
        key = req['key']
        name = req.get('name') or '_'.join(f'{k}_{v}' for k, v in key.items())
        # listIndexes shows {v, key, name, <options as given>}
        spec = {'v': req.get('v', 2), 'key': key, 'name': name,
                **{k: v for k, v in req.items() if k not in ('v', 'key', 'name')}}
        same_name = next((i for i in c.indexes if i['name'] == name), None)
        same_key = next((i for i in c.indexes if bkey(i['key']) == bkey(key)), None)
        if same_name:
            if bkey(same_name['key']) == bkey(key) and same_options(same_name, spec):
                continue
            raise CommandError(86, f'An existing index has the same name as the requested index. '
                                   f'Requested index: {spec}, existing index: {same_name}')
        if same_key and same_options(same_key, spec):
            raise CommandError(85, f"Index already exists with a different name: {same_key['name']}")
        c.add_index(spec)
    reply = {'numIndexesBefore': before, 'numIndexesAfter': len(c.indexes),
             'createdCollectionAutomatically': created}
    if before == len(c.indexes):
        reply['note'] = 'all indexes already exist'
    return reply


@command('dropIndexes', 'deleteIndexes')
def cmd_drop_indexes(ctx, cmd):
    c = need_coll(ctx, cmd.get('dropIndexes') or cmd.get('deleteIndexes'))
    was, which = len(c.indexes), cmd['index']
    if which == '*':
        names = [i['name'] for i in c.indexes[1:]]
    elif isinstance(which, Mapping):
        names = [i['name'] for i in c.indexes if bkey(i['key']) == bkey(which)]
        if not names:
            raise CommandError(27, f"can't find index with key: {which}")
    else:
        names = which if isinstance(which, list) else [which]
    for name in names:
        if name == '_id_':
            raise CommandError(72, 'cannot drop _id index')
        if not any(i['name'] == name for i in c.indexes):
            raise CommandError(27, f'index not found with name [{name}]')
    c.indexes = [i for i in c.indexes if i['name'] not in names]
    for name in names:
        c.uniq.pop(name, None)
    return {'nIndexesWas': was}


# ---------------------------------------------------------------- reads

def matching(coll, filt, decoded=False, direction=0):
    """Lazily yield (raw, doc) for the documents matching filt (doc is None if not needed);
    direction 1/-1: in _id order."""
    for raw in coll.scan(filt, direction) if coll else ():
        if not filt and not decoded:
            yield raw, None
            continue
        doc = decode(raw)
        if applies(filt, doc):
            yield raw, doc


def index_range(coll, hint, lo, hi, filt):
    """find's min/max: documents whose index key is in [min, max) in index order, across
    BSON types (no type bracketing). {_id: 1} is served from the sorted _id list."""
    spec = next((i for i in coll.indexes if i['name'] == hint or
                 (isinstance(hint, Mapping) and bkey(i['key']) == bkey(hint))), None)
    if spec is None:
        raise CommandError(2, 'hint provided does not correspond to an existing index')
    for bound in (lo, hi):
        if bound and list(bound) != list(spec['key']):
            raise CommandError(51174, 'The index key pattern does not match min/max')
    if list(spec['key'].items()) == [('_id', 1)]:
        raws = coll.id_range(lo['_id'] if lo else None, hi['_id'] if hi else None)
        return ((raw, doc) for raw in raws for doc in [decode(raw)] if applies(filt, doc))
    return _scan_range(coll, spec['key'], lo, hi, filt)


def _scan_range(coll, pattern, lo, hi, filt):
    dirs = list(pattern.values())
    low = [bkey(v) for v in lo.values()] if lo else None
    high = [bkey(v) for v in hi.values()] if hi else None
    for raw, doc in sort_items(matching(coll, filt, True), pattern):
        key = [bkey((path_values(doc, f) or [None])[0]) for f in pattern]
        if (low is None or compare(key, low, dirs) >= 0) and \
                (high is None or compare(key, high, dirs) < 0):
            yield raw, doc


def compare(a, b, dirs):
    """Compare two index keys field by field; a descending field compares reversed."""
    for x, y, d in zip(a, b, dirs):
        if x != y:
            return (1 if x > y else -1) * (1 if d > 0 else -1)
    return 0


def find_items(coll, cmd, filt, decoded=False):
    """The (raw, doc) stream of a find: filter, min/max, sort, skip, limit."""
    sort, lo, hi = cmd.get('sort') or {}, cmd.get('min'), cmd.get('max')
    decoded = decoded or bool(cmd.get('projection'))
    if lo or hi:
        if not cmd.get('hint'):
            raise CommandError(51173, 'When using min()/max() a hint of which index to use must '
                                      'be provided')
        items = index_range(coll, cmd['hint'], lo, hi, filt)
        if sort:
            items = sort_items(items, sort)
    elif len(sort) == 1 and ('_id' in sort or '$natural' in sort):  # no sort needed
        direction = 1 if sort.get('_id', 1) > 0 else -1
        items = matching(coll, filt, decoded, direction if '_id' in sort else 0)
        if sort.get('$natural', 1) < 0:
            items = reversed(list(items))
    else:
        items = matching(coll, filt, decoded or bool(sort))
        if sort:
            items = sort_items(items, sort)
    skip, limit = cmd.get('skip') or 0, abs(cmd.get('limit') or 0)
    return itertools.islice(items, skip, skip + limit if limit else None)


def shape(items, projection):
    """Stored bytes as they are, or a projected copy."""
    for raw, doc in items:
        yield bson.encode(project(doc, projection)) if projection else raw


@command('find')
def cmd_find(ctx, cmd):
    coll = get_coll(ctx.db, cmd['find'])
    ns = f"{ctx.db}.{cmd['find']}"
    if coll is None:
        return {'cursor': {'firstBatch': [], 'id': Int64(0), 'ns': ns}}
    items = shape(find_items(coll, cmd, cmd.get('filter') or {}), cmd.get('projection'))
    single = cmd.get('singleBatch') or (cmd.get('limit') or 0) < 0
    return cursor_reply(ns, items, cmd.get('batchSize', 101), single)


@command('count')
def cmd_count(ctx, cmd):
    coll = get_coll(ctx.db, cmd['count'])
    q, skip, limit = cmd.get('query') or {}, cmd.get('skip') or 0, abs(cmd.get('limit') or 0)
    n = len(coll.docs) if coll and not q else sum(1 for _ in matching(coll, q))
    n = max(0, n - skip)
    return {'n': min(n, limit) if limit else n}


@command('distinct')
def cmd_distinct(ctx, cmd):
    seen, values = set(), []
    for _, doc in matching(get_coll(ctx.db, cmd['distinct']), cmd.get('query') or {}, True):
        for v in path_values(doc, cmd['key']):
            if bkey(v) not in seen:
                seen.add(bkey(v))
                values.append(v)
    return {'values': sorted(values, key=bkey)}


class LookupDB:
    """What mongomock's $lookup needs from a database: get_collection(name).find(filter)."""

    def __init__(self, db):
        self.db = db

    def get_collection(self, name):
        coll = get_coll(self.db, name)

        class View:
            def find(self, filt):
                return [decode(raw) for raw, _ in matching(coll, filt, True)]
        return View()


@command('aggregate')
def cmd_aggregate(ctx, cmd):
    name, pipeline = cmd['aggregate'], cmd['pipeline']
    if not isinstance(name, str):
        raise CommandError(115, 'database-level aggregate is not supported by the test server')
    if any(k in ('$out', '$merge') for stage in pipeline for k in stage):
        raise CommandError(115, '$out/$merge are not supported by the test server')
    coll = get_coll(ctx.db, name)
    docs = [decode(raw) for raw in (coll.docs.values() if coll else ())]  # fresh copies
    try:
        result = mm_aggregate.process_pipeline(docs, LookupDB(ctx.db), pipeline, None)
        out = [bson.encode(d) for d in result]
    except CommandError:
        raise
    except Exception as e:
        raise CommandError(getattr(e, 'code', None) or 2, f'aggregate failed: {e}') from e
    return cursor_reply(f'{ctx.db}.{name}', out, cmd.get('cursor', {}).get('batchSize', 101))


# ---------------------------------------------------------------- writes

def prepare(raw):
    """Validate a document to insert; put _id first (adding an ObjectId if absent), as mongod."""
    if len(raw) > MAX_BSON:
        raise CommandError(2, f'object to insert too large. size in bytes: {len(raw)}, '
                              f'max size: {MAX_BSON}')
    doc = decode(raw)
    if '_id' not in doc:
        doc = {'_id': ObjectId(), **doc}
        raw = bson.encode(doc)
    elif next(iter(doc)) != '_id':
        doc = id_first(doc, doc['_id'])
        raw = bson.encode(doc)
    if isinstance(doc['_id'], (list, Regex)):
        raise CommandError(53, f"The '_id' value cannot be of type {type(doc['_id']).__name__}")
    return raw, doc


def write_reply(n, errors, **extra):
    reply = {'n': n, **extra}
    if errors:
        reply['writeErrors'] = errors
    return reply


@command('insert')
def cmd_insert(ctx, cmd):
    coll = get_coll(ctx.db, cmd['insert'], create=True)
    raws = ctx.seqs['documents'] if 'documents' in ctx.seqs else \
        [d.raw for d in RawBSONDocument(ctx.body)['documents']]  # documents in the body (kind 0)
    n, errors = 0, []
    for i, raw in enumerate(raws):
        try:
            coll.insert(*prepare(raw))
            n += 1
        except CommandError as e:
            errors.append(e.write_error(i))
            if cmd.get('ordered', True):
                break
    return write_reply(n, errors)


def is_replacement(u):
    return isinstance(u, Mapping) and not any(k.startswith('$') for k in u)


def updated(coll, raw, doc, q, u, array_filters):
    """Apply u to one stored document; returns the new raw bytes, or None if unchanged."""
    if is_replacement(u):
        if '_id' in u and bkey(u['_id']) != bkey(doc['_id']):
            raise CommandError(66, "After applying the update, the (immutable) field '_id' was "
                                   "found to have been altered")
        new = id_first(u, doc['_id'])
    else:
        new = apply_update(doc, q, u, array_filters)
        if bkey(new['_id']) != bkey(doc['_id']):
            raise CommandError(66, "Performing an update on the path '_id' would modify the "
                                   "immutable field '_id'")
    new_raw = bson.encode(new)
    if new_raw == raw:
        return None
    if len(new_raw) > MAX_BSON:
        raise CommandError(17419, 'Resulting document after update is larger than 16777216')
    coll.replace(bkey(doc['_id']), new_raw, new)
    return new_raw


def upsert(coll, q, u, array_filters):
    """Insert the document an upsert makes; the _id comes from the query when it pins one."""
    if is_replacement(u):
        qid = q.get('_id')
        has_qid = '_id' in q and not (isinstance(qid, Mapping) and any(k.startswith('$') for k in qid))
        new = id_first(u, u['_id'] if '_id' in u else qid if has_qid else ObjectId())
    else:
        new = apply_update(None, q, u, array_filters)
    raw = bson.encode(new)
    coll.insert(raw, new)
    return raw, new


@command('update')
def cmd_update(ctx, cmd):
    coll = get_coll(ctx.db, cmd['update'], create=True)
    n = modified = 0
    errors, upserted = [], []
    for i, st in enumerate(cmd.get('updates', [])):
        q, u, af = st.get('q') or {}, st.get('u'), st.get('arrayFilters')
        try:
            hits = matching(coll, q, True)
            if not st.get('multi'):
                hits = itertools.islice(hits, 1)
            hits = list(hits)
            for raw, doc in hits:
                n += 1
                modified += updated(coll, raw, doc, q, u, af) is not None
            if not hits and st.get('upsert'):
                _, new = upsert(coll, q, u, af)
                n += 1
                upserted.append({'index': i, '_id': new['_id']})
        except CommandError as e:
            errors.append(e.write_error(i))
            if cmd.get('ordered', True):
                break
    extra = {'nModified': modified, **({'upserted': upserted} if upserted else {})}
    return write_reply(n, errors, **extra)


@command('delete')
def cmd_delete(ctx, cmd):
    coll = get_coll(ctx.db, cmd['delete'])
    n, errors = 0, []
    for i, st in enumerate(cmd.get('deletes', [])):
        try:
            hits = list(itertools.islice(matching(coll, st.get('q') or {}, True),
                                         1 if st.get('limit') else None))
        except CommandError as e:
            errors.append(e.write_error(i))
            if cmd.get('ordered', True):
                break
            continue
        for _, doc in hits:
            coll.delete(bkey(doc['_id']))
            n += 1
    return write_reply(n, errors)


@command('findAndModify', 'findandmodify')
def cmd_find_and_modify(ctx, cmd):
    name = cmd.get('findAndModify') or cmd.get('findandmodify')
    coll = get_coll(ctx.db, name, create=True)
    q, u, fields = cmd.get('query') or {}, cmd.get('update'), cmd.get('fields')
    hit = next(iter(find_items(coll, {'sort': cmd.get('sort'), 'limit': 1}, q, True)), None)
    out = lambda raw: RawBSONDocument(  # noqa: E731
        bson.encode(project(decode(raw), fields)) if fields else raw)
    if cmd.get('remove'):
        if hit:
            coll.delete(bkey(hit[1]['_id']))
        return {'lastErrorObject': {'n': int(bool(hit))}, 'value': out(hit[0]) if hit else None}
    if hit:
        raw, doc = hit
        new_raw = updated(coll, raw, doc, q, u, cmd.get('arrayFilters')) or raw
        return {'lastErrorObject': {'n': 1, 'updatedExisting': True},
                'value': out(new_raw if cmd.get('new') else raw)}
    if cmd.get('upsert'):
        raw, new = upsert(coll, q, u, cmd.get('arrayFilters'))
        return {'lastErrorObject': {'n': 1, 'updatedExisting': False, 'upserted': new['_id']},
                'value': out(raw) if cmd.get('new') else None}
    return {'lastErrorObject': {'n': 0, 'updatedExisting': False}, 'value': None}


# ---------------------------------------------------------------- dispatch

def run(ctx, name, cmd):
    """Run one command; returns the reply document."""
    handler = HANDLERS.get(name)
    if handler is None:
        return CommandError(59, f"no such command: '{name}'").reply()
    try:
        if name in ADMIN_ONLY and ctx.db != 'admin':
            raise CommandError(13, f'{name} may only be run against the admin database.')
        if cmd.get('startTransaction'):
            raise CommandError(20, 'Transaction numbers are only allowed on a replica set member '
                                   'or mongos')
        reply = handler(ctx, cmd)
    except CommandError as e:
        return e.reply()
    return {**reply, 'ok': 1.0}
