"""Oracle for the pattern differential test: stix2-patterns' verdict.

Reads JSON lines {"pattern": "..."} on stdin and writes, per line,
{"valid": true|false, "errors": [...], "crash": null|"ExceptionType: text"}.
A crash is an exception escaping the validator (its verdict is then unknown).
One process serves a whole batch.
"""
import json
import sys

from stix2patterns.validator import run_validator


def main():
    for line in sys.stdin:
        case = json.loads(line)
        out = {"valid": False, "errors": [], "crash": None}
        try:
            errs = run_validator(case["pattern"], "2.1")
            out["valid"] = len(errs) == 0
            out["errors"] = [str(e) for e in errs]
        except Exception as e:  # the reference's own failures are data here
            out["crash"] = "%s: %s" % (type(e).__name__, e)
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
