#!/usr/bin/env python3
"""timed.py OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR, and
prints "WALL_S PEAK_RSS_KIB CPU_S" (CPU: user + system of CMD and what it
waited for), to the microsecond: /usr/bin/time rounds to 10 ms, which is 5% of
a 0.2 s run. Exits with CMD's status."""
import os
import subprocess
import sys
import time

out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=o, stderr=e)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
print(f"{wall:.6f} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.6f}")
sys.exit(os.waitstatus_to_exitcode(status))
