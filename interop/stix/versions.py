"""Checks versions made elsewhere with the OASIS stix2 library.

Reads a JSON array of [old, new] pairs on stdin; for each, parses both with
stix2 and checks what stix2's own versioning guarantees: same id, type and
created, new modified strictly later. Writes a JSON array of "ok" or an error.
"""
import json
import sys

import stix2


def check(old, new):
    a = stix2.parse(old, allow_custom=True, version="2.1")
    b = stix2.parse(new, allow_custom=True, version="2.1")
    for key in ("id", "type", "created"):
        if a[key] != b[key]:
            return f"{key} changed"
    if not b["modified"] > a["modified"]:
        return "modified not later"
    try:
        stix2.versioning.new_version(b, description="probe")
        if b.get("revoked"):
            return "stix2 versioned a revoked object"
    except stix2.exceptions.RevokeError:
        if not b.get("revoked"):
            return "stix2 refused to version a non-revoked object"
    return "ok"


out = []
for old, new in json.load(sys.stdin):
    try:
        out.append(check(old, new))
    except Exception as e:  # report, do not stop the batch
        out.append(f"{type(e).__name__}: {e}")
json.dump(out, sys.stdout)
