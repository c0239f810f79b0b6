"""Drop the fields of a `unipose batch` response file that change from run to run (timings, pid, load time).

    python docs/experiments/restructure/normalize.py RESPONSES.jsonl > NORMALIZED.jsonl
"""
import json
import sys

VOLATILE = {"timing_ms", "pid", "load_ms"}


def strip(value):
    if isinstance(value, dict):
        return {key: strip(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [strip(item) for item in value]
    return value


for line in open(sys.argv[1]):
    print(json.dumps(strip(json.loads(line)), sort_keys=True))
