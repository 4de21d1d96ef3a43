#!/usr/bin/env python3
"""Print the OASIS stix2-validator verdict for each file named on stdin.

Reads one path per line on standard input and writes one JSON object per line:
{"file": PATH, "valid": BOOL, "errors": [..], "warnings": [..]}. Running all
inputs in one process keeps the differential tests fast.

With --strict, warnings count as errors (the validator's own --strict).
"""
import json
import logging
import sys

from stix2validator import ValidationOptions, validate_file

logging.disable(logging.CRITICAL)


def main():
    strict = "--strict" in sys.argv[1:]
    options = ValidationOptions(version="2.1", strict=strict)
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        result = validate_file(path, options)
        errors, warnings = [], []
        if result.fatal is not None:
            errors.append("fatal: " + result.fatal.error)
        objects = result.object_results or []
        if not isinstance(objects, list):
            objects = [objects]
        for obj in objects:
            errors.extend(str(e) for e in obj.errors)
            warnings.extend(str(w) for w in obj.warnings)
        sys.stdout.write(json.dumps({
            "file": path,
            "valid": bool(result.is_valid),
            "errors": errors,
            "warnings": warnings,
        }) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
