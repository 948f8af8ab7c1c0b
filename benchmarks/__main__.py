"""Command line: python -m benchmarks [--quick] runs every benchmark, prints the tables and writes docs/benchmarks.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.context import bench_context, progress
from benchmarks.latency import run_latency
from benchmarks.machine import describe_machine, describe_versions
from benchmarks.plan import FULL, QUICK
from benchmarks.report import RESULTS_END, RESULTS_START, RunRecord, render_results, write_page
from benchmarks.scale import run_scale
from benchmarks.throughput import prepare_topic, run_throughput
from devstack.config import REPO_ROOT
from devstack.processes import StackError

SECTIONS = ("throughput", "scale", "latency")
RECORD_PAGE = REPO_ROOT / "docs" / "benchmarks.md"
# Used only when docs/benchmarks.md is missing or has lost its markers.
PAGE_TEMPLATE = f"""# Benchmarks

Run from the repository root, with the local stack's requirements installed:

```
.venv/bin/python -m benchmarks          # full run, 12 to 14 minutes on 2 cores; rewrites this page
.venv/bin/python -m benchmarks --quick  # small sizes and one round, for development; writes nothing
```

{RESULTS_START}
{RESULTS_END}
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the relay service on the local stack: throughput against the aiokafka limit and the original "
        "one-request-per-record design, scale-out and memory under a stalled endpoint, and latency at fixed rates. "
        "Starts the local stack if it is not running. Run from the repository root.",
    )
    parser.add_argument("--quick", action="store_true", help="small record counts, short runs and one round, for development")
    parser.add_argument("--rounds", type=int, help="rounds of each throughput and scale measurement (default: 3, or 1 with --quick)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, from {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--output", type=Path,
                        help=f"record page to write (default: {RECORD_PAGE.relative_to(REPO_ROOT)} after a full run of every "
                        "section of this checkout; nothing after --quick, a subset of sections or --service-dir)")
    parser.add_argument("--service-dir", type=Path, default=REPO_ROOT,
                        help="folder whose service/ package is benchmarked instead of this checkout's (default: the repository root)")
    parser.add_argument("--keep-topics", action="store_true", help="keep the benchmark's topics on the broker for inspection")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(arguments)
    sections = [section.strip() for section in args.sections.split(",") if section.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        print(f"error: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    if not (args.service_dir / "service" / "__main__.py").is_file():
        print(f"error: --service-dir {args.service_dir} has no service/__main__.py; point it at a folder containing the service package",
              file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        if args.rounds < 1:
            print(f"error: --rounds {args.rounds} is invalid; use 1 or more", file=sys.stderr)
            return 2
        plan = replace(plan, rounds=args.rounds)
    output = args.output
    if output is None and not args.quick and set(sections) == set(SECTIONS) and args.service_dir.resolve() == REPO_ROOT:
        output = RECORD_PAGE

    record = RunRecord(plan_name=plan.name, rounds=plan.rounds, command=shlex.join(["python", "-m", "benchmarks", *arguments]),
                       started_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), elapsed_s=0.0,
                       machine=describe_machine(), versions=describe_versions(), log_dir="")
    started = time.monotonic()
    try:
        with bench_context(plan, args.service_dir, args.keep_topics, progress) as context:
            record.log_dir = str(context.log_dir)
            progress(f"run {context.run_id}: {plan.name} plan, {plan.rounds} round(s), sections {', '.join(sections)}; "
                     f"logs in {context.log_dir}")
            if "throughput" in sections:
                record.throughput = run_throughput(context, progress)
            if "scale" in sections:
                if record.throughput:
                    topic, total = record.throughput.topic, record.throughput.topic_records
                else:
                    topic, total, _ = prepare_topic(context, "throughput", plan.topic_records)
                record.scale = run_scale(context, topic, total, progress)
            if "latency" in sections:
                record.latency = run_latency(context, progress)
    except (StackError, RuntimeError) as error:
        # RuntimeError: a process of the run failed, e.g. a relay that exited or a broker that another user stopped.
        print(f"error: {error}", file=sys.stderr)
        return 1
    record.elapsed_s = time.monotonic() - started
    record.load_at_end = ", ".join(f"{value:.2f}" for value in os.getloadavg())

    results = render_results(record)
    print(results)
    raw_path = Path(record.log_dir) / "results.json"
    raw_path.write_text(json.dumps(_jsonable(dataclasses.asdict(record)), indent=1))
    progress(f"wrote the raw measurements to {raw_path}")
    if output is not None:
        write_page(output, results, PAGE_TEMPLATE)
        progress(f"wrote {output}")
    return 0


def _jsonable(value):
    if isinstance(value, dict):
        return {_json_key(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _json_key(key) -> str:
    # The relay's series are keyed by (ordering, batch) tuples, which JSON objects cannot use as keys.
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key)
    return str(key)


if __name__ == "__main__":
    sys.exit(main())
