"""Command line of the local stack: python -m devstack {start,stop,status}."""

from __future__ import annotations

import argparse
import sys
import time

from devstack.processes import StackError
from devstack.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bin/stack",
        description="Run the local stack on 127.0.0.1: a single-node Kafka broker, the AppSync simulator, "
                    "the live ticker page and Prometheus.",
        epilog="Ports: DEVSTACK_KAFKA_PORT (19092), DEVSTACK_KAFKA_CONTROLLER_PORT (19093), DEVSTACK_APPSYNC_PORT (20002), "
               "DEVSTACK_WEB_PORT (20080), DEVSTACK_PROMETHEUS_PORT (19090). State: DEVSTACK_HOME (.devstack).",
    )
    parser.add_argument("command", choices=["start", "stop", "status"], help="start waits until every part is ready; stop ends every process it started")
    args = parser.parse_args(argv)
    stack = LocalStack()
    try:
        if args.command == "start":
            started_at = time.monotonic()
            timings = stack.start()
            parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            print(f"local stack ready in {time.monotonic() - started_at:.1f} s ({parts})")
            for name, value in stack.endpoints.as_dict().items():
                print(f"  {name:18} {value}")
            print(f"  {'state directory':18} {stack.config.state_dir}")
        elif args.command == "stop":
            stopped = stack.stop()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        else:
            for name, running in stack.status().items():
                print(f"{name:11} {'running' if running else 'stopped'}")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
