"""What this machine is: the CPU's name, and whether the linker finds a system OpenBLAS."""
import os
import platform
import subprocess


def cpu_name():
    """The CPU's model name with its family and model numbers (x86 Linux): a generic name such
    as 'AMD EPYC' covers several CPUs."""
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
    except OSError:
        return platform.processor() or platform.machine()
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name", platform.processor() or platform.machine())
    return f"{name} (family {fields['cpu family']}, model {fields['model']})" if "cpu family" in fields else name


def system_openblas_found():
    """Whether the linker finds a system OpenBLAS (e.g. Debian's libopenblas-dev)."""
    try:
        found = subprocess.run(["g++", "-print-file-name=libopenblas.so"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return os.path.isabs(found)
