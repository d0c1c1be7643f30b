#!/usr/bin/env python3
"""bytes.py EXPORT.jsonl: events and bytes of data and metadata per event type.

Each event's data and metadata are measured as compact JSON, as the ledger
writes them (export embeds them unchanged).
"""
import collections
import json
import sys

n, d, m = collections.Counter(), collections.Counter(), collections.Counter()
size = lambda v: len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode())
with open(sys.argv[1], "rb") as f:
    for line in f:
        o = json.loads(line)
        t = o["type"]
        n[t] += 1
        d[t] += size(o["data"])
        m[t] += size(o["metadata"])
print("type events data/event metadata/event total/event")
for t, c in n.most_common():
    print(t, c, d[t] // c, m[t] // c, (d[t] + m[t]) // c)
tot = sum(n.values())
D, M = sum(d.values()), sum(m.values())
print("ALL", tot, D // tot, M // tot, (D + M) // tot)
