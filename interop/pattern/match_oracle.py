"""Oracle for the matcher differential test: stix2-matcher's verdict.

Reads JSON lines {"pattern": "...", "observed": [bundle, ...]} on stdin and
writes, per line, {"result": "match"|"nomatch"|"error", "detail": "..."}.
"error" covers both parse errors and MatcherException/other exceptions, as
`stix2-matcher` reports them. One process serves a whole batch.
"""
import json
import sys

from stix2matcher.matcher import match


def main():
    for line in sys.stdin:
        case = json.loads(line)
        out = {"result": "nomatch", "detail": ""}
        try:
            if match(case["pattern"], case["observed"], stix_version="2.1"):
                out["result"] = "match"
        except Exception as e:  # the reference's errors are part of its verdict
            out["result"] = "error"
            out["detail"] = "%s: %s" % (type(e).__name__, e)
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
