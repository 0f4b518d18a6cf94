"""The machine a measurement was made on, in words (benchmark reports, the demo's estimates)."""
import os
import os.path as osp
import platform


def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo``; elsewhere ``platform``'s guess)."""
    name = platform.processor() or platform.machine() or 'unknown CPU'
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            names = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
        name = names[0] if names else name
    return name


def processor() -> str:
    """The processor's model name and the cores this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return f'{cpu_name()}, {cores} cores'
