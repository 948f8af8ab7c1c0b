"""Show where a relay process spends its time while it relays a full topic to the minimal endpoint, sampled with py-spy.

    python -m benchmarks.profile [--service-dir DIR] [--ordering partition] [--batch 50] [--seconds 8]

py-spy attaches to the running `python -m service` process from outside, so
the relay runs unchanged. It is not a project dependency: install it with
`.venv/bin/pip install py-spy`. The collapsed stacks are kept in the run's log
folder for a flame graph tool.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.context import ENDPOINT_API_KEY, bench_context, progress
from benchmarks.plan import FULL
from benchmarks.processes import RelayProcess, wait_all_assigned
from benchmarks.throughput import DEFAULT_BATCH, DEFAULT_ORDERING, prepare_topic
from devstack.config import REPO_ROOT
from devstack.processes import StackError

_SAMPLES_PER_S = 200
_LINE_NUMBER = re.compile(r":\d+\)$")


def summarize(collapsed: str, top: int) -> str:
    """Rank the functions of py-spy's collapsed stacks by inclusive and by self samples."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if not total:
        return "py-spy recorded no samples; was the relay busy?"
    lines = [f"{total} samples; share of samples with the function on the stack (inclusive):"]
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in inclusive.most_common(top)]
    lines.append("share of samples with the function on top of the stack (self):")
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--service-dir", type=Path, default=REPO_ROOT, help="folder containing the service/ package (default: this checkout)")
    parser.add_argument("--ordering", choices=["partition", "key"], default=DEFAULT_ORDERING, help="RELAY_ORDERING (default partition)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help=f"RELAY_BATCH_MAX_RECORDS (default {DEFAULT_BATCH})")
    parser.add_argument("--seconds", type=float, default=8.0, help="sampling time; keep it below the time the relay needs for the topic")
    parser.add_argument("--records", type=int, default=FULL.topic_records, help=f"records in the prepared topic (default {FULL.topic_records:,})")
    parser.add_argument("--top", type=int, default=30, help="functions to list in each ranking (default 30)")
    args = parser.parse_args(argv)

    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("error: py-spy is not installed; install it with .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    plan = replace(FULL, topic_records=args.records)
    try:
        with bench_context(plan, args.service_dir, progress=progress) as context:
            return _profile_relay(context, args, py_spy)
    except (StackError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _profile_relay(context, args: argparse.Namespace, py_spy: str) -> int:
    topic, total, _ = prepare_topic(context, "profile", context.plan.topic_records)
    output = context.log_dir / f"profile-{args.ordering}-b{args.batch}.collapsed"
    group_id = f"bench-{context.run_id}-profile"
    context.groups_created.append(group_id)
    relay = RelayProcess(bootstrap_servers=context.bootstrap_servers, topic=topic, group_id=group_id,
                         appsync_url=context.endpoint.url, api_key=ENDPOINT_API_KEY, dead_letter_topic=context.dead_letter_topic,
                         log_path=context.log("relay-profile"), service_dir=context.service_dir, ordering=args.ordering,
                         batch_max_records=args.batch).start()
    try:
        relay.wait_ready()
        wait_all_assigned([relay], context.plan.partitions)
        before = context.endpoint.stats()
        progress(f"sampling relay pid {relay.pid} for {args.seconds:g} s")
        # --gil samples only the thread that holds the GIL, so idle threads (such as pycares' resolver thread) stay out.
        completed = subprocess.run(
            [py_spy, "record", "--pid", str(relay.pid), "--gil", "--format", "raw", "--rate", str(_SAMPLES_PER_S),
             "--duration", f"{args.seconds:g}", "--output", str(output)],
            capture_output=True, text=True, check=False)
        after = context.endpoint.stats()
    finally:
        relay.stop()

    if completed.returncode != 0 or not output.exists():
        print(f"error: py-spy failed (exit {completed.returncode}): {completed.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    relayed = after["unique"] - before["unique"]
    rate = relayed / (after["now"] - before["now"])
    print(f"relayed {relayed:,} of {total:,} records at {rate:,.0f} records/s while sampled; stacks in {output}\n")
    print(summarize(output.read_text(), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
