"""CPU time and memory of a process, read from Linux's /proc, and a sampler that records them over time."""

from __future__ import annotations

import bisect
import os
import threading
import time
from dataclasses import dataclass, field

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return user plus system CPU seconds of every thread of the process (utime + stime in /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        text = stat.read()
    # The command name in brackets may contain spaces, so count fields after the last ')'.
    fields = text[text.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_S


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmRSS (resident now) and VmHWM (peak resident) in KiB from /proc/PID/status."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount = line.split(":", 1)
                values[name] = int(amount.split()[0])
    return values


@dataclass
class Sample:
    at: float  # time.monotonic()
    cpu_s: float
    rss_kib: int
    hwm_kib: int


@dataclass
class ProcessSampler:
    """Sample a process's CPU seconds and resident memory every `interval_s` on a background thread.

    The samples stop when the process exits or stop() is called.
    """

    pid: int
    interval_s: float = 0.1
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ProcessSampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{self.pid}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def sample(self) -> Sample | None:
        try:
            at = time.monotonic()
            cpu = cpu_seconds(self.pid)
            memory = memory_kib(self.pid)
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            return None  # the process exited, or is a zombie without memory lines
        if "VmRSS" not in memory:
            return None
        sample = Sample(at, cpu, memory["VmRSS"], memory.get("VmHWM", memory["VmRSS"]))
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.sample() is None:
                return

    def cpu_at(self, moment: float) -> float | None:
        """Return the CPU seconds at `moment`, interpolated linearly between the two samples around it."""
        times = [sample.at for sample in self.samples]
        if not times or moment < times[0] or moment > times[-1]:
            return None
        index = bisect.bisect_left(times, moment)
        if times[index] == moment or index == 0:
            return self.samples[index].cpu_s
        before, after = self.samples[index - 1], self.samples[index]
        share = (moment - before.at) / (after.at - before.at)
        return before.cpu_s + share * (after.cpu_s - before.cpu_s)

    def cpu_between(self, start: float, end: float) -> float | None:
        first, last = self.cpu_at(start), self.cpu_at(end)
        if first is None or last is None:
            return None
        return last - first

    @property
    def peak_hwm_kib(self) -> int | None:
        return max((sample.hwm_kib for sample in self.samples), default=None)

    @property
    def peak_rss_kib(self) -> int | None:
        return max((sample.rss_kib for sample in self.samples), default=None)
