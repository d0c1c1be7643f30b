#!/usr/bin/env python3
"""Prints the ids of a creditor's active placements, one a line, for payments.lua.

    python3 docs/bench/ids.py http://127.0.0.1:8080 API_KEY > ids.txt
"""
import json
import sys
import urllib.request

base, key = sys.argv[1], sys.argv[2]
cursor = None
while True:
    url = base + "/v1/placements?status=active&limit=200" + ("&cursor=" + cursor if cursor else "")
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req) as resp:
        page = json.load(resp)
    for p in page["items"]:
        print(p["placementId"])
    cursor = page["nextCursor"]
    if not cursor:
        break
