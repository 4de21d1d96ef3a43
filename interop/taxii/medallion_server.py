"""Runs OASIS medallion (memory backend) on a loopback port for comparisons.

Usage: python medallion_server.py PORT [OBJECTS_JSON]

Serves one API root /api1/ with one read/write collection
91a7b528-80eb-42ed-a74d-c6fbd5a26116, preloaded with the objects of the
optional JSON file (a list of STIX objects). User "bench", password "bench".
"""

import datetime
import json
import os
import sys
import tempfile

from medallion.scripts.run import main as medallion_main

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def main():
    port = int(sys.argv[1])
    objects = []
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            objects = json.load(f)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    manifest = [
        {"id": o["id"], "date_added": now, "version": o.get("modified", o.get("created", now)),
         "media_type": "application/stix+json;version=2.1"}
        for o in objects
    ]
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "medallion", "default": root, "api_roots": [root]},
        "api1": {
            "information": {"title": "medallion", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 104857600},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"],
                             "objects": objects, "manifest": manifest}],
        },
    }
    tmp = tempfile.mkdtemp(prefix="medallion-")
    data_path = os.path.join(tmp, "data.json")
    with open(data_path, "w") as f:
        json.dump(data, f)
    config_path = os.path.join(tmp, "config.json")
    with open(config_path, "w") as f:
        json.dump({"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": data_path, "session_timeout": 600},
                   "users": {"bench": "bench"}, "taxii": {"max_page_size": 1000}}, f)
    sys.argv = ["medallion", "--port", str(port), "--log-level", "ERROR", config_path]
    medallion_main()


if __name__ == "__main__":
    main()
