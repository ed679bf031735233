#!/usr/bin/env python3
"""json_same.py A B: exit 0 when two JSON files hold the same data (timings and paths of the run aside).

Used by scripts/golden.sh, so that a change of JSON writer (layout, number spelling) is no difference.
"""
import json
import sys

VARYING = ("seconds", "wall", "time", "date")  # keys whose values change run to run


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not any(w in k for w in VARYING)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
