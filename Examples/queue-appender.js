// queue-appender.js — the application side of syncctl's sync queue, for Node.js 18+.
//
// After each write the application makes to the local MongoDB, append one line to the queue
// file (SYNC_QUEUE_FILE, default .syncctl/sync-queue.jsonl); `syncctl replay --follow` (the
// sync worker) makes Atlas match local for every document named there. The format is
// version 1 of the contract in syncctl's README ("The queue file"):
//
//   {"v":1,"id":"<uuid>","time":"2026-01-19T10:00:00.123Z","db":"bomba","coll":"orders","op":"update","_id":{"$oid":"…"}}
//
// Rules this file follows (any other writer must too):
// - one line per write, AFTER the local write succeeded; the line names the document, not
//   the change: replay reads the document's current state, so duplicates are harmless;
// - open with O_APPEND, write the whole line (newline included) in ONE write, close: lines
//   of concurrent writers never interleave, and syncctl's rotation (a rename) is never
//   written past — do not keep the file open between appends;
// - `_id` in canonical Extended JSON (every BSON type explicit: {"$numberLong": "5"});
// - never wait for Atlas, never throw into the request path: a failed append is logged and
//   the next full-sync repairs what it missed;
// - SYNC_PERSIST_QUEUE=true fsyncs each line (survives a power cut); false leaves it to the
//   OS (survives the process dying, not the machine).
//
// Usage as a module:
//   const { appendSyncEntry } = require('./queue-appender');
//   const doc = await Order.create({...});
//   appendSyncEntry({ db: 'bomba', coll: 'orders', op: 'insert', _id: doc._id });
// Usage from a shell (tests, demos):
//   node queue-appender.js QUEUE_FILE DB COLL OP ID_JSON     (ID_JSON: canonical Extended JSON)
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const QUEUE_FILE = process.env.SYNC_QUEUE_FILE || path.join(process.env.SYNC_STATE_DIR || '.syncctl', 'sync-queue.jsonl');
const PERSIST = !/^(false|0|no|off)$/i.test(process.env.SYNC_PERSIST_QUEUE || 'true');
const OPS = new Set(['insert', 'update', 'replace', 'delete']);

/** Canonical Extended JSON of an _id value. Uses the `bson` package (a dependency of the
 *  MongoDB driver and of mongoose) when present; otherwise handles the common _id types. */
function canonicalId(id) {
  try {
    const { EJSON } = require('bson');
    return EJSON.stringify(id, { relaxed: false });
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  if (id && typeof id.toHexString === 'function') return JSON.stringify({ $oid: id.toHexString() });
  if (typeof id === 'string') return JSON.stringify(id);
  if (typeof id === 'bigint') return JSON.stringify({ $numberLong: id.toString() });
  if (typeof id === 'number') {
    if (Number.isInteger(id) && id >= -2147483648 && id <= 2147483647) return JSON.stringify({ $numberInt: String(id) });
    if (Number.isInteger(id)) return JSON.stringify({ $numberLong: String(id) });
    return JSON.stringify({ $numberDouble: String(id) });
  }
  if (id instanceof Date) return JSON.stringify({ $date: { $numberLong: String(id.getTime()) } });
  throw new TypeError(`cannot write this _id as canonical Extended JSON without the bson package: ${id}`);
}

/** Appends one entry; returns it. Throws only on a programming error (bad op); I/O
 *  failures are returned as `error` so the caller's request never fails because of sync. */
function appendSyncEntry({ db, coll, op, _id, file = QUEUE_FILE, persist = PERSIST }) {
  return appendWithIdText({ db, coll, op, idText: canonicalId(_id), file, persist });
}

function appendWithIdText({ db, coll, op, idText, file, persist }) {
  if (!OPS.has(op)) throw new TypeError(`op must be insert, update, replace or delete, not ${op}`);
  const entry = { v: 1, id: crypto.randomUUID(), time: new Date().toISOString(), db, coll, op };
  // The _id is spliced in as canonical Extended JSON text: JSON.stringify would lose its type.
  const line = JSON.stringify(entry).slice(0, -1) + ',"_id":' + idText + '}\n';
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    const buffer = Buffer.from(line, 'utf8');
    const written = fs.writeSync(fd, buffer, 0, buffer.length);
    if (written !== buffer.length) throw new Error(`short write to ${file} (${written} of ${buffer.length} bytes)`);
    if (persist) fs.fsyncSync(fd);
    return { entry, error: null };
  } catch (error) {
    console.error(`sync queue: could not append to ${file}: ${error.message} (full-sync will repair)`);
    return { entry, error };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

module.exports = { appendSyncEntry, canonicalId };

if (require.main === module) {
  const [file, db, coll, op, idJSON] = process.argv.slice(2);
  if (!idJSON || !OPS.has(op)) {
    console.error('usage: node queue-appender.js QUEUE_FILE DB COLL insert|update|replace|delete ID_JSON');
    process.exit(64);
  }
  JSON.parse(idJSON); // the _id arrives as canonical Extended JSON text: check it, keep it verbatim
  const { error } = appendWithIdText({ db, coll, op, idText: idJSON.trim(), file, persist: PERSIST });
  process.exit(error ? 73 : 0);
}
