"""Change one document in Atlas behind the sync's back, for `make demo`.

Usage: demo_tamper.py ATLAS_URI_WITH_DATABASE COLLECTION
Sets `status` of the collection's first document (in _id order) to "tampered" and prints its
_id, so that `syncctl verify-consistency` has exactly one real difference to find.
"""
import sys

from pymongo import ASCENDING, MongoClient

uri, collection = sys.argv[1], sys.argv[2]
client = MongoClient(uri)
coll = client.get_default_database()[collection]
document = coll.find_one(sort=[("_id", ASCENDING)])
if document is None:
    sys.exit(f"demo_tamper.py: {collection} is empty in Atlas: run full-sync first")
coll.update_one({"_id": document["_id"]}, {"$set": {"status": "tampered"}})
print(f"changed {collection} {document['_id']} in Atlas: status -> 'tampered'")
