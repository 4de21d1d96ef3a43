"""Times stix2.parse on STIX bundles, as the baseline of the vigil-stix benchmark.

Usage: bench_parse.py FILE... ; prints one JSON object per file:
{"file": ..., "bytes": ..., "objects": ..., "seconds": ...}. Only the parse is
timed, in CPU seconds (the file is read before the clock starts).
"""
import json
import sys
import time

import stix2

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = time.process_time()
    bundle = stix2.parse(text, allow_custom=True)
    seconds = time.process_time() - start
    print(json.dumps({
        "file": path,
        "bytes": len(text.encode("utf-8")),
        "objects": len(bundle.get("objects", [])),
        "seconds": seconds,
    }), flush=True)
