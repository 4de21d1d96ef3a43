"""Prints the ids the OASIS stix2 library gives cyber-observables.

Reads a JSON array of SCO objects (without `id`) on stdin and writes a JSON
array with, for each, the id stix2 generated or {"error": message}.
"""
import json
import sys

import stix2


def main():
    out = []
    for obj in json.load(sys.stdin):
        try:
            parsed = stix2.parse(obj, allow_custom=True, version="2.1")
            out.append(parsed["id"])
        except Exception as e:  # report, do not stop the batch
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
