"""What the machine offers: physical cores (llama.cpp is fastest with one thread per core) and
the CPU's model name (a speed tuning holds only on the machine it was measured on)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def physical_cores() -> int:
    """Physical CPU cores, falling back to logical CPUs when the OS will not say."""
    logical = os.cpu_count() or 1
    system = platform.system()
    try:
        if system == "Linux":
            cores = _linux_physical_cores(Path("/proc/cpuinfo").read_text())
            if cores:
                return min(cores, logical)
        elif system == "Darwin":
            out = subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True,
                                 text=True, timeout=2, check=True)
            return max(1, int(out.stdout.strip()))
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return logical


def _linux_physical_cores(cpuinfo: str) -> int:
    """Count distinct (physical id, core id) pairs; 0 when /proc/cpuinfo lacks them."""
    pairs: set[tuple[str, str]] = set()
    physical = core = None
    for line in cpuinfo.splitlines() + [""]:
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        elif not line.strip():
            if core is not None:
                pairs.add((physical or "0", core))
            physical = core = None
    return len(pairs)


def cpu_model() -> str:
    """The CPU's model name ("" when the OS will not say)."""
    system = platform.system()
    try:
        if system == "Linux":
            return _linux_cpu_model(Path("/proc/cpuinfo").read_text())
        if system == "Darwin":
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=2, check=True)
            return out.stdout.strip()
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return platform.processor()


def _linux_cpu_model(cpuinfo: str) -> str:
    """The first "model name" (x86) or "Model"/"Hardware" (ARM) line's value."""
    found: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        found.setdefault(key.strip(), value.strip())
    return next((found[k] for k in ("model name", "Model", "Hardware", "cpu model")
                 if found.get(k)), "")
