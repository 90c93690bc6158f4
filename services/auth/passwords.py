"""Password hashing for staff sign-in: argon2id, bounded and at a lower CPU priority."""
import os
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventlet import tpool
from eventlet.semaphore import Semaphore


class Passwords:
    """argon2id off the event loop, at most `concurrency` at a time, at a lower CPU priority.

    argon2-cffi's defaults (RFC 9106: 64 MiB, 3 passes, 4 lanes) cost about 190 ms of CPU
    per sign-in here, by design. Unbounded, a burst of sign-ins would start a hash per
    request, each with 64 MiB and four threads, and take the cores from candidates who
    are uploading (tests/load/README.md). So hashes wait their turn, and their threads
    run at nice `NICE`: under load a sign-in waits longer, an upload does not; the cost
    of each guess for an attacker is unchanged."""

    NICE = 10

    def __init__(self, hasher, concurrency):
        self.hasher = hasher
        self.slots = Semaphore(concurrency)

    @classmethod
    def from_settings(cls, settings):
        """argon2id at the cost `settings` (AuthSettings) name. The test suites set the
        cheapest cost (their sign-ins and staff accounts took seconds of CPU per test); a
        stored hash carries its own cost, so verifying follows whatever hashed it."""
        hasher = PasswordHasher(time_cost=settings.hash_time_cost, memory_cost=settings.hash_memory_kib,
                                parallelism=settings.hash_parallelism)
        return cls(hasher, concurrency=settings.hash_concurrency)

    @cached_property
    def dummy_hash(self):
        """Verified against when the account does not exist, which keeps timing equal;
        made on first need (each instance and console start paid a hash for it)."""
        return self.hasher.hash("timing-equaliser-not-a-password")

    def hash(self, password):
        return self._run(self.hasher.hash, password)

    def verify(self, password_hash, password):
        try:
            return self._run(self.hasher.verify, password_hash or self.dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _run(self, function, *args):
        with self.slots:
            return tpool.execute(_at_lower_priority, self.NICE, function, *args)


def _at_lower_priority(nice, function, *args):
    """Run in a tpool thread. On Linux the nice value belongs to the thread (`who` 0 is
    the calling thread) and argon2's lane threads inherit it; it is only ever raised."""
    if os.getpriority(os.PRIO_PROCESS, 0) < nice:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    return function(*args)
