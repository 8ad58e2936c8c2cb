"""The hash floor of this checkout's own Argon2 build, beside the kit's.

The kit measures its floor with the old backend's venv (PyPI's portable
argon2-cffi-bindings wheel); `make .venv` builds Argon2 for this CPU, so the
app's hashes take less time. Prints one line: the median time of one hash at
the production settings and the sign-ins per second it allows at most
(cores / that time), the kit's formula. Run with the project's venv.
"""
import os
import statistics
import sys
import time

from argon2 import PasswordHasher, Type

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from config import ProductionConfig  # noqa: E402

HASHES = 15

hasher = PasswordHasher(time_cost=ProductionConfig.ARGON2_TIME_COST,
                        memory_cost=ProductionConfig.ARGON2_MEMORY_KIB,
                        parallelism=ProductionConfig.ARGON2_PARALLELISM, type=Type.ID)
hasher.hash("warm-up")
times = []
for _ in range(HASHES):
    started = time.perf_counter()
    hasher.hash("a bench password of some length")
    times.append(time.perf_counter() - started)
median = statistics.median(times)
cores = os.cpu_count()
print(f"this checkout's Argon2id (t={hasher.time_cost} m={hasher.memory_cost} "
      f"p={hasher.parallelism}): {median * 1000:.1f} ms a hash (median of {HASHES}), "
      f"so at most {cores / median:.1f} sign-ins/s on {cores} cores")
