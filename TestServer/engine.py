"""Storage and query engine of the test server.

Design: every document is stored as the exact BSON bytes the client sent (the source of
truth, so reads are byte-exact). Queries and updates are evaluated by mongomock on decoded
copies; an update re-encodes the result (decode -> encode is lossless for every BSON type the
tests use, because dates are decoded with DATETIME_AUTO and Binary subtypes are kept).
BSON ordering (sort, _id ranges, unique keys) is done here by `bkey`, because mongomock's
ordering does not know Timestamp, MinKey/MaxKey, Decimal128 or JavaScript.
"""
import bisect
import datetime
import itertools
import json
import os
import threading
import uuid
from collections.abc import Mapping

import bson
import mongomock
from bson import CodecOptions, DatetimeConversion, json_util
from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp
from mongomock import collection as mm_collection
from mongomock import filtering

# DATETIME_AUTO: datetime where Python can hold it, DatetimeMS (raw millis) otherwise.
OPTS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)
MAX_BSON = 16 * 1024 * 1024
LOCK = threading.RLock()  # one lock for all data: simple, and Python runs one thread at a time anyway

CODE_NAMES = {
    1: 'InternalError', 2: 'BadValue', 6: 'HostUnreachable', 7: 'HostNotFound', 9: 'FailedToParse',
    11: 'UserNotFound', 13: 'Unauthorized', 14: 'TypeMismatch', 18: 'AuthenticationFailed',
    20: 'IllegalOperation', 26: 'NamespaceNotFound', 27: 'IndexNotFound', 43: 'CursorNotFound',
    48: 'NamespaceExists', 50: 'MaxTimeMSExpired', 53: 'InvalidIdField', 59: 'CommandNotFound',
    66: 'ImmutableField', 72: 'InvalidOptions', 73: 'InvalidNamespace', 85: 'IndexOptionsConflict',
    86: 'IndexKeySpecsConflict', 89: 'NetworkTimeout', 91: 'ShutdownInProgress', 112: 'WriteConflict',
    115: 'CommandNotSupported', 189: 'PrimarySteppedDown', 262: 'ExceededTimeLimit',
    352: 'UnsupportedOpQueryCommand', 9001: 'SocketException', 10107: 'NotWritablePrimary',
    11000: 'DuplicateKey', 11600: 'InterruptedAtShutdown', 11602: 'InterruptedDueToReplStateChange',
    13435: 'NotPrimaryNoSecondaryOk', 13436: 'NotPrimaryOrSecondary', 17419: 'BSONObjectTooLarge',
    51173: 'Location51173',
}


class CommandError(Exception):
    """A MongoDB error reply: {ok: 0, errmsg, code, codeName, **extra}."""

    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code, self.errmsg, self.extra = code, errmsg, extra

    def reply(self):
        return {'ok': 0.0, 'errmsg': self.errmsg, 'code': self.code,
                'codeName': CODE_NAMES.get(self.code, 'UnknownError'), **self.extra}

    def write_error(self, index):
        return {'index': index, 'code': self.code, 'errmsg': self.errmsg, **self.extra}


def decode(raw):
    try:
        return bson.decode(raw, OPTS)
    except bson.errors.InvalidBSON as e:
        raise CommandError(2, f'invalid BSON: {e}') from e


# ---------------------------------------------------------------- BSON comparison order

def bkey(v):
    """A Python sort key that orders and equates values as MongoDB's BSON comparison does:
    MinKey < null < numbers (compared by value) < string < object < array < binData
    < ObjectId < bool < date < timestamp < regex < JavaScript < MaxKey.
    Equal keys mean equal values (1 == 1.0 == Int64(1)), so it also serves as the _id key."""
    if v is None:
        return (5,)
    if isinstance(v, bool):
        return (40, v)
    if isinstance(v, (int, float)):  # Int64 is an int
        return (10, 0) if v != v else (10, 1, v)  # NaN sorts below every number
    if isinstance(v, Decimal128):
        d = v.to_decimal()
        return (10, 0) if d.is_nan() else (10, 1, d)
    if isinstance(v, Code):  # before str: Code subclasses str
        return (60, str(v)) if v.scope is None else (65, str(v), bkey(v.scope))
    if isinstance(v, str):
        return (15, v)  # code point order == UTF-8 byte order
    if isinstance(v, DBRef):
        return bkey(v.as_doc())
    if isinstance(v, Mapping):
        return (20, tuple((bkey(x)[0], k, bkey(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (25, tuple(bkey(x) for x in v))
    if isinstance(v, bytes):  # Binary subclasses bytes; plain bytes is subtype 0
        return (30, len(v), getattr(v, 'subtype', 0), bytes(v))
    if isinstance(v, ObjectId):
        return (35, v.binary)
    if isinstance(v, datetime.datetime):
        return (45, bson.datetime_ms._datetime_to_millis(v))
    if isinstance(v, DatetimeMS):
        return (45, int(v))
    if isinstance(v, Timestamp):
        return (47, v.time, v.inc)
    if isinstance(v, Regex):
        return (50, str(v.pattern), v.flags)
    if isinstance(v, MinKey):
        return (-1,)
    if isinstance(v, MaxKey):
        return (127,)
    if isinstance(v, uuid.UUID):
        return (30, 16, 4, v.bytes)
    return (100, repr(v))


def _bson_compare(op, a, b, can_compare_types=True):
    ka, kb = bkey(a), bkey(b)
    if ka[0] != kb[0]:
        return can_compare_types and op(ka[0], kb[0])  # type bracketing for $gt & co
    return op(ka, kb)


# mongomock's own comparison raises on Timestamp/MinKey/DatetimeMS...; use ours everywhere.
filtering.bson_compare = _bson_compare


def _keep_long(original):
    """mongomock's $inc turns Int64 + int into a plain int (re-encoded as Int32); MongoDB keeps long."""
    def updater(doc, field, value):
        old = doc.get(field) if isinstance(doc, dict) else None
        original(doc, field, value)
        if isinstance(doc, dict) and (isinstance(old, Int64) or isinstance(value, Int64)):
            new = doc.get(field)
            if isinstance(new, int) and not isinstance(new, (bool, Int64)):
                doc[field] = Int64(new)
    return updater


def _mul_updater(doc, field, value):
    """mongomock has no $mul; a missing field becomes 0, as in MongoDB."""
    if isinstance(doc, list):
        doc[int(field)] *= value
    else:
        doc[field] = doc.get(field, 0) * value


mm_collection._updaters['$inc'] = _keep_long(mm_collection._updaters['$inc'])
mm_collection._updaters['$mul'] = _keep_long(_mul_updater)


def _is(*types):
    return lambda v: isinstance(v, types)


# mongomock's $type table misses numeric codes and half the types, and calls any int > 32 bits
# a long: replace it (its _type_op looks the table up at call time).
INT32 = lambda v: type(v) is int and -2 ** 31 <= v < 2 ** 31  # noqa: E731 (Int64 is a subclass)
for names, pred in {
        ('double', 1): _is(float), ('string', 2): lambda v: isinstance(v, str) and not isinstance(v, Code),
        ('object', 3): _is(Mapping), ('array', 4): _is(list), ('binData', 5): _is(bytes),
        ('objectId', 7): _is(ObjectId), ('bool', 8): _is(bool),
        ('date', 9): _is(datetime.datetime, DatetimeMS), ('null', 10): lambda v: v is None,
        ('regex', 11): _is(Regex), ('javascript', 13): lambda v: isinstance(v, Code) and v.scope is None,
        ('javascriptWithScope', 15): lambda v: isinstance(v, Code) and v.scope is not None,
        ('int', 16): INT32, ('timestamp', 17): _is(Timestamp),
        ('long', 18): lambda v: isinstance(v, Int64) or (type(v) is int and not INT32(v)),
        ('decimal', 19): _is(Decimal128), ('minKey', -1): _is(MinKey), ('maxKey', 127): _is(MaxKey),
        ('number',): lambda v: isinstance(v, (int, float, Decimal128)) and not isinstance(v, bool),
}.items():
    for name in names:
        filtering.TYPE_MAP[name] = pred


def applies(filt, doc):
    """mongomock's matcher, with its errors turned into MongoDB BadValue replies."""
    if not filt:
        return True
    try:
        return filtering.filter_applies(filt, doc)
    except (NotImplementedError, ValueError, TypeError, mongomock.OperationFailure) as e:
        raise CommandError(2, f'bad query: {e}') from e


def path_values(doc, path):
    """Leaf values at a dotted path; arrays fan out like MongoDB's multikey paths."""
    cur = [doc]
    for part in path.split('.'):
        nxt = []
        for v in cur:
            if isinstance(v, Mapping):
                if part in v:
                    nxt.append(v[part])
            elif isinstance(v, list):
                if part.isdigit() and int(part) < len(v):
                    nxt.append(v[int(part)])
                nxt.extend(e[part] for e in v if isinstance(e, Mapping) and part in e)
        cur = nxt
    out = []
    for v in cur:
        out.extend(v) if isinstance(v, list) else out.append(v)
    return out


def sort_items(items, sort):
    """Sort (raw, doc) pairs by a MongoDB sort spec: stable passes from the last key back.
    An array sorts by its smallest element ascending and its largest descending."""
    items = list(items)
    for field, direction in reversed(list(sort.items())):
        desc = isinstance(direction, (int, float)) and direction < 0
        pick = max if desc else min

        def key(item, field=field, pick=pick):
            return pick((bkey(v) for v in path_values(item[1], field)), default=bkey(None))
        items.sort(key=key, reverse=desc)
    return items


def fmt(v):
    """A value the way MongoDB prints it in an E11000 message."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, ObjectId):
        return f"ObjectId('{v}')"
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if v is None:
        return 'null'
    if isinstance(v, Mapping):
        return '{ ' + ', '.join(f'{k}: {fmt(x)}' for k, x in v.items()) + ' }' if v else '{}'
    if isinstance(v, list):
        return '[ ' + ', '.join(fmt(x) for x in v) + ' ]' if v else '[]'
    return str(v)


# ---------------------------------------------------------------- mongomock as update engine

_scratch = mongomock.MongoClient().scratch.docs  # a one-document workbench, used under LOCK


def apply_update(old, q, u, array_filters=None):
    """Apply update `u` (operators or pipeline) to `old`; old=None builds an upsert document
    from the query's equality fields, as MongoDB does. Returns the new document, _id first."""
    _scratch.delete_many({})
    try:
        if old is not None:
            _scratch.insert_one(old)
        _scratch.update_one(q, u, upsert=old is None,
                            array_filters=array_filters)
    except CommandError:
        raise
    except Exception as e:  # mongomock reports bad updates as ValueError / WriteError / ...
        code = 66 if 'immutable' in str(e) else getattr(e, 'code', None) or 9  # FailedToParse
        raise CommandError(code, str(e)) from e
    new = _scratch.find_one()
    return new if next(iter(new)) == '_id' else id_first(new, new['_id'])


def id_first(doc, _id):
    """doc with _id as its first field, as MongoDB stores every document."""
    return {'_id': _id, **{k: v for k, v in doc.items() if k != '_id'}}


def project(doc, projection):
    """find's projection (inclusion, exclusion, $slice, $elemMatch), keeping stored field order."""
    try:
        out = _scratch._copy_only_fields(doc, dict(projection), dict)
    except Exception as e:
        raise CommandError(2, f'bad projection: {e}') from e
    return {**{k: out[k] for k in doc if k in out}, **out}


# ---------------------------------------------------------------- collections and databases

class Collection:
    def __init__(self, db, name, options=None, uid=None):
        self.db, self.name = db, name
        self.options = options or {}
        self.uuid = uid or Binary(uuid.uuid4().bytes, 4)
        self.docs = {}  # bkey(_id) -> raw BSON bytes; dict order is the natural (insertion) order
        self.indexes = [{'v': 2, 'key': {'_id': 1}, 'name': '_id_'}]
        self.uniq = {}  # unique index name -> {index key -> bkey(_id) of the owner}
        self._id_order = []  # sorted _id keys (None: to be rebuilt), for reads in _id order

    @property
    def ns(self):
        return f'{self.db}.{self.name}'

    # -- unique indexes
    def index_keys(self, spec, doc):
        """The keys `doc` puts into index `spec` (arrays fan out; missing fields are null)."""
        pfe = spec.get('partialFilterExpression')
        if pfe and not applies(pfe, doc):
            return set()
        fields = [path_values(doc, f) for f in spec['key']]
        if spec.get('sparse') and not any(fields):
            return set()
        return set(itertools.product(*[[bkey(v) for v in vals] or [bkey(None)] for vals in fields]))

    def dup_error(self, spec, doc):
        value = {f: (path_values(doc, f) or [None])[0] for f in spec['key']}
        return CommandError(
            11000, f"E11000 duplicate key error collection: {self.ns} index: {spec['name']} "
                   f"dup key: {fmt(value)}", keyPattern=spec['key'], keyValue=value)

    def _check(self, idk, doc):
        for spec in self.indexes[1:]:
            if spec.get('unique'):
                reg = self.uniq.setdefault(spec['name'], {})
                if any(reg.get(k, idk) != idk for k in self.index_keys(spec, doc)):
                    raise self.dup_error(spec, doc)

    def _register(self, idk, doc, add):
        for spec in self.indexes[1:]:
            if spec.get('unique'):
                reg = self.uniq.setdefault(spec['name'], {})
                for k in self.index_keys(spec, doc):
                    if add:
                        reg[k] = idk
                    elif reg.get(k) == idk:
                        del reg[k]

    def add_index(self, spec):
        """Add an index spec; a unique one must hold for the documents already there."""
        if spec.get('unique'):
            reg = {}
            for idk, raw in self.docs.items():
                doc = decode(raw)
                for k in self.index_keys(spec, doc):
                    if reg.setdefault(k, idk) != idk:
                        raise self.dup_error(spec, doc)
            self.uniq[spec['name']] = reg
        self.indexes.append(spec)

    # -- writes (callers hold LOCK)
    def insert(self, raw, doc):
        idk = bkey(doc['_id'])
        if idk in self.docs:
            raise self.dup_error(self.indexes[0], doc)
        self._check(idk, doc)
        self.docs[idk] = raw
        self._register(idk, doc, True)
        # Keep the sorted _id list up to date as MongoDB's _id index is: appending in _id
        # order (a copy, a restore, ObjectId inserts) keeps it; anything else rebuilds it lazily.
        order = self._id_order
        if order is not None and (not order or order[-1] < idk):
            order.append(idk)
        else:
            self._id_order = None

    def replace(self, idk, raw, doc):
        old = decode(self.docs[idk])
        self._register(idk, old, False)
        try:
            self._check(idk, doc)
        except CommandError:
            self._register(idk, old, True)
            raise
        self.docs[idk] = raw  # same key: keeps its place in natural order
        self._register(idk, doc, True)

    def delete(self, idk):
        self._register(idk, decode(self.docs.pop(idk)), False)
        order = self._id_order
        if order is not None:
            at = bisect.bisect_left(order, idk)
            if at < len(order) and order[at] == idk:
                del order[at]

    # -- reads
    def scan(self, filt, direction=0):
        """Raw documents that may match `filt` (the caller still applies it). Without an _id
        condition or direction: all, in natural order. Otherwise in _id order (as from MongoDB's
        _id index), narrowed to the keys the _id condition allows, reversed if direction < 0."""
        cond = filt.get('_id', _ANY) if filt else _ANY
        if cond is _ANY and not direction:
            return list(self.docs.values())  # a snapshot of references: safe while others write
        if isinstance(cond, Mapping) and list(cond) == ['$in'] and isinstance(cond['$in'], list):
            keys = sorted({bkey(v) for v in cond['$in'] if not isinstance(v, Regex)})
        else:
            lo, hi = id_key_range(cond)
            if lo is not None and lo == hi:
                keys = [lo]
            else:
                order = self.sorted_ids()
                keys = order[0 if lo is None else bisect.bisect_left(order, lo):
                             len(order) if hi is None else bisect.bisect_right(order, hi)]
        docs = self.docs
        return [docs[k] for k in (reversed(keys) if direction < 0 else keys) if k in docs]

    def sorted_ids(self):
        if self._id_order is None:
            self._id_order = sorted(self.docs)
        return self._id_order

    def id_range(self, lo, hi):
        """Raw documents with lo <= _id < hi (None = open), in _id order; any mix of types."""
        order = self.sorted_ids()
        start = 0 if lo is None else bisect.bisect_left(order, bkey(lo))
        end = len(order) if hi is None else bisect.bisect_left(order, bkey(hi))
        docs = self.docs
        return (docs[k] for k in order[start:end] if k in docs)


_ANY = object()


def id_key_range(cond):
    """Loose (lo, hi) bounds on bkey(_id) implied by a filter's _id condition; None = open.
    Comparisons stay within the operand's type (type bracketing), e.g. $gt: 5 ends at the
    last number."""
    if cond is _ANY:
        return None, None
    if not isinstance(cond, Mapping) or not all(k.startswith('$') for k in cond):
        return (None, None) if isinstance(cond, (Regex, list)) else (bkey(cond),) * 2
    lo = hi = None
    for op, v in cond.items():
        if isinstance(v, (MinKey, MaxKey)):
            continue  # $gt: MinKey spans every type
        k = bkey(v)
        if op in ('$gt', '$gte'):
            lo, hi = k, hi or (k[0] + 0.5,)
        elif op in ('$lt', '$lte'):
            lo, hi = lo or (k[0],), k
        elif op == '$eq':
            lo = hi = k
    return lo, hi


DBS = {}  # db name -> {collection name -> Collection}; a database exists while it has one


def get_coll(db, name, create=False):
    coll = DBS.get(db, {}).get(name)
    if coll is None and create:
        check_name(db, name)
        coll = DBS.setdefault(db, {})[name] = Collection(db, name)
    return coll


def check_name(db, name):
    if not isinstance(name, str) or not name or '\0' in name or name.startswith('.') or '$' in name:
        raise CommandError(73, f'Invalid collection name: {name!r}')
    if not db or any(c in db for c in '/\\. "$\0'):
        raise CommandError(73, f'Invalid database name: {db!r}')


def drop_coll(db, name):
    colls = DBS.get(db, {})
    coll = colls.pop(name, None)
    if not colls:
        DBS.pop(db, None)
    return coll


def seed_system(version):
    """admin, config and local exist on every real mongod; mirror them so listDatabases looks real."""
    if 'admin' not in DBS:
        c = get_coll('admin', 'system.version', create=True)
        fcv = '.'.join(version.split('.')[:2])
        d = {'_id': 'featureCompatibilityVersion', 'version': fcv}
        c.insert(bson.encode(d), d)
    if 'local' not in DBS:
        c = get_coll('local', 'startup_log', create=True)
        c.options = {'capped': True, 'size': 10485760}
        d = {'_id': f'localhost-{int(datetime.datetime.now().timestamp() * 1000)}',
             'hostname': 'localhost', 'startTime': datetime.datetime.now(datetime.timezone.utc),
             'pid': Int64(os.getpid()), 'buildinfo': {'version': version}}
        c.insert(bson.encode(d), d)
    if 'config' not in DBS:
        c = get_coll('config', 'system.sessions', create=True)
        c.indexes.append({'v': 2, 'key': {'lastUse': 1}, 'name': 'lsidTTLIndex',
                          'expireAfterSeconds': 1800})


# ---------------------------------------------------------------- persistence (--data DIR)
# DIR/catalog.json lists databases, collections (options, uuid, indexes) in canonical
# Extended JSON; each collection's documents are the raw BSON bytes concatenated in DIR/N.bson.

def save(path):
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        if f.endswith('.bson'):
            os.remove(os.path.join(path, f))
    catalog = []
    for n, coll in enumerate(c for colls in DBS.values() for c in colls.values()):
        fname = f'{n}.bson'
        with open(os.path.join(path, fname), 'wb') as f:
            f.writelines(coll.docs.values())
        catalog.append({'db': coll.db, 'name': coll.name, 'file': fname, 'options': coll.options,
                        'uuid': coll.uuid, 'indexes': coll.indexes})
    tmp = os.path.join(path, 'catalog.json.tmp')
    with open(tmp, 'w') as f:
        f.write(json_util.dumps(catalog, json_options=json_util.CANONICAL_JSON_OPTIONS, indent=1))
    os.replace(tmp, os.path.join(path, 'catalog.json'))


def load(path):
    cat_path = os.path.join(path, 'catalog.json')
    if not os.path.exists(cat_path):
        return
    with open(cat_path) as f:
        catalog = json_util.loads(f.read(), json_options=json_util.CANONICAL_JSON_OPTIONS.with_options(
            datetime_conversion=DatetimeConversion.DATETIME_AUTO))
    for entry in catalog:
        coll = get_coll(entry['db'], entry['name'], create=True)
        coll.options, coll.uuid = entry['options'], entry['uuid']
        with open(os.path.join(path, entry['file']), 'rb') as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            size = int.from_bytes(data[pos:pos + 4], 'little')
            raw = data[pos:pos + size]
            coll.insert(raw, decode(raw))
            pos += size
        for spec in entry['indexes'][1:]:
            coll.add_index(spec)

