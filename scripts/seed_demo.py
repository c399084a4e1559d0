"""Seed a small `bomba` restaurant database for `make demo`.

Uses the BSON types a real application stores: ObjectId ids, dates, Decimal128 money,
Int64 counters, nested documents and arrays. Deterministic (fixed random seed) so every demo
shows the same data.
"""
import datetime
import random
import sys
from decimal import Decimal

from bson import Decimal128, Int64, ObjectId
from pymongo import ASCENDING, MongoClient

uri = sys.argv[1]
client = MongoClient(uri)
db = client.get_default_database()
rng = random.Random(7)
start = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.timezone.utc)

for name in ("users", "menuitems", "orders", "sessions", "bills"):
    db.drop_collection(name)

users = [
    {"_id": ObjectId(), "email": f"user{i}@bomba.example", "name": f"User {i}",
     "role": "admin" if i == 0 else "staff", "createdAt": start - datetime.timedelta(days=i),
     "logins": Int64(rng.randint(0, 5000))}
    for i in range(40)
]
db.users.insert_many(users)
db.users.create_index([("email", ASCENDING)], unique=True, name="idx_users_email")

menu = [
    {"_id": ObjectId(), "name": f"Dish {i}", "price": Decimal128(Decimal(f"{rng.randint(4, 30)}.{rng.choice([0, 50, 95]):02d}")),
     "tags": rng.sample(["vegan", "spicy", "gluten-free", "new", "classic"], 2), "available": i % 7 != 0}
    for i in range(25)
]
db.menuitems.insert_many(menu)

orders = []
for i in range(120):
    lines = [{"item": rng.choice(menu)["_id"], "qty": rng.randint(1, 4)} for _ in range(rng.randint(1, 4))]
    orders.append({"_id": ObjectId(), "user": rng.choice(users)["_id"], "lines": lines,
                   "total": Decimal128(Decimal(rng.randint(500, 9000)) / 100),
                   "createdAt": start + datetime.timedelta(minutes=7 * i), "status": rng.choice(["open", "paid", "void"])})
db.orders.insert_many(orders)
db.orders.create_index([("user", ASCENDING), ("createdAt", ASCENDING)], name="idx_orders_user_createdAt")

db.sessions.insert_many([
    {"_id": ObjectId(), "user": rng.choice(users)["_id"], "table": rng.randint(1, 20),
     "openedAt": start + datetime.timedelta(hours=i), "guests": rng.randint(1, 6)}
    for i in range(30)
])
db.bills.insert_many([
    {"_id": ObjectId(), "order": o["_id"], "amount": o["total"], "paidAt": o["createdAt"] + datetime.timedelta(minutes=45),
     "method": rng.choice(["card", "cash"])}
    for o in orders if o["status"] == "paid"
])

counts = {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())}
print("seeded", db.name + ":", ", ".join(f"{n} {c}" for n, c in counts.items()))
