"""Shared by the worker scripts: where each rank writes its result."""

import json
import sys
from pathlib import Path

import minigrad.distributed as dist


def write_result(result: dict) -> None:
    out = Path(sys.argv[1])
    (out / f"rank{dist.get_rank()}.json").write_text(json.dumps(result))
