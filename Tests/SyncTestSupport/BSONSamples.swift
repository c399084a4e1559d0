/// Sample data shared by the unit and integration tests.
public enum BSONSamples {
    /// One document holding every BSON type TESTING.md lists, with the awkward values:
    /// NaN, ±Inf, -0.0, non-ASCII text, binary subtypes 0/3/4/5/128, dates before 1970 and
    /// after 9999, small Int64s, Decimal128, MinKey/MaxKey. `_id` comes first, as MongoDB
    /// stores it.
    public static let everyTypeJSON = """
        {"_id": {"$oid": "65f0a1b2c3d4e5f601234567"}, "double": {"$numberDouble": "1.5"}, "nan": {"$numberDouble": "NaN"}, "inf": {"$numberDouble": "Infinity"},
         "ninf": {"$numberDouble": "-Infinity"}, "nzero": {"$numberDouble": "-0.0"},
         "string": "naïve — 日本語 🚀", "document": {"a": {"b": [1, 2]}}, "array": [1, "two", {"three": 3}],
         "bin0": {"$binary": {"base64": "AAECAw==", "subType": "00"}},
         "bin3": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "03"}},
         "bin4": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "04"}},
         "bin5": {"$binary": {"base64": "XrRzXr8SOr6wGkGWDGdQhw==", "subType": "05"}},
         "bin128": {"$binary": {"base64": "/w==", "subType": "80"}},
         "oid": {"$oid": "507f1f77bcf86cd799439011"}, "bool": true,
         "pre1970": {"$date": {"$numberLong": "-2208988800000"}},
         "farFuture": {"$date": {"$numberLong": "253402300800000"}},
         "null": null, "regex": {"$regularExpression": {"pattern": "^a.*b$", "options": "im"}},
         "code": {"$code": "function() { return 1; }"}, "int32": {"$numberInt": "-7"},
         "int64small": {"$numberLong": "5"}, "int64": {"$numberLong": "9007199254740993"},
         "ts": {"$timestamp": {"t": 1700000000, "i": 7}}, "dec": {"$numberDecimal": "1234.5600"},
         "min": {"$minKey": 1}, "max": {"$maxKey": 1}}
        """
}
