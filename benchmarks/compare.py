"""Compare the throughput of two or more versions of the service package, alternating them on one prepared topic.

    python -m benchmarks.compare --service-dir . --service-dir /tmp/changed --rounds 5

Each --service-dir is a folder containing a service/ package (a copy of this
checkout's with a change applied, for example). Runs alternate between the
versions, so a noisy minute on a shared machine hits each alike; CPU seconds
per 10,000 records varies far less with that noise than records/s does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.context import bench_context, progress
from benchmarks.measurement import Series
from benchmarks.plan import FULL
from benchmarks.report import format_spread
from benchmarks.throughput import DEFAULT_BATCH, DEFAULT_ORDERING, measure_relays, prepare_topic
from devstack.processes import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--service-dir", type=Path, action="append", required=True,
                        help="folder containing a service/ package; give it two or more times")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each version (default 3)")
    parser.add_argument("--records", type=int, default=FULL.topic_records, help=f"records in the prepared topic (default {FULL.topic_records:,})")
    parser.add_argument("--window-cap", type=float, default=10.0, help="maximum length of one run's measuring window, in seconds (default 10)")
    parser.add_argument("--ordering", choices=["partition", "key"], default=DEFAULT_ORDERING, help="RELAY_ORDERING (default partition)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help=f"RELAY_BATCH_MAX_RECORDS (default {DEFAULT_BATCH})")
    args = parser.parse_args(argv)
    for folder in args.service_dir:
        if not (folder / "service" / "__main__.py").is_file():
            print(f"error: --service-dir {folder} has no service/__main__.py; point it at a folder containing the service package",
                  file=sys.stderr)
            return 2
    plan = replace(FULL, rounds=args.rounds, topic_records=args.records, relay_window_cap_s=args.window_cap)
    series = [Series(str(folder)) for folder in args.service_dir]
    try:
        with bench_context(plan, progress=progress) as context:
            topic, total, _ = prepare_topic(context, "compare", plan.topic_records)
            for round_index in range(plan.rounds):
                for index, folder in enumerate(args.service_dir):
                    context.service_dir = folder.resolve()
                    # Each run needs its own consumer group, so that it starts from the beginning of the topic.
                    measurement = measure_relays(context, topic, total, f"compare-r{round_index}-v{index}",
                                                 processes=1, ordering=args.ordering, batch_max_records=args.batch)
                    series[index].rounds.append(measurement)
                    progress(f"round {round_index + 1}: {folder}: {measurement.rate or 0:,.0f} records/s, "
                             f"{measurement.cpu_s_per_10k or 0:.3f} CPU s per 10,000 records")
    except (StackError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    baseline = series[0]
    print(f"\nordering={args.ordering}, batch={args.batch}, {plan.rounds} round(s); median (min–max)\n")
    print("| service folder | records/s | CPU s per 10,000 records | CPU per record vs the first |")
    print("|---|---|---|---|")
    for result in series:
        ratio = result.cpu_s_per_10k.ratio_to(baseline.cpu_s_per_10k)
        print(f"| {result.label} | {format_spread(result.rate)} | {format_spread(result.cpu_s_per_10k, 3)} | "
              f"{f'{ratio:.2f}×' if ratio is not None else 'n/a'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
