"""Sign-in hashing waits its turn and yields the CPU (services/auth/passwords.py)."""
import os

import eventlet
from eventlet import patcher

from services.auth.passwords import Passwords
from common.settings import load
from services.auth.settings import AuthSettings

real_threading = patcher.original("threading")
real_time = patcher.original("time")


class SlowHasher:
    """Stands in for argon2: records how many run at once and at which priority."""

    def __init__(self):
        self.lock = real_threading.Lock()
        self.running = 0
        self.most = 0
        self.nice = []
        self.finished = 0

    def hash(self, password):
        return "$slow$" + password

    def verify(self, password_hash, password):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.nice.append(os.getpriority(os.PRIO_PROCESS, 0))
        real_time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.finished += 1
        return password_hash == "$slow$" + password


def test_at_most_two_hashes_run_at_once_each_at_a_lower_cpu_priority():
    hasher = SlowHasher()
    passwords = Passwords(hasher, concurrency=2)
    pool = eventlet.GreenPool()
    results = list(pool.imap(lambda n: passwords.verify("$slow$pw", "pw" if n % 2 else "no"), range(8)))
    assert results == [n % 2 == 1 for n in range(8)]
    assert hasher.most == 2
    assert len(hasher.nice) == 8 and min(hasher.nice) >= Passwords.NICE


def test_the_event_loop_goes_on_while_hashes_wait():
    hasher = SlowHasher()
    passwords = Passwords(hasher, concurrency=1)
    seen = []  # hashes finished, as seen by another green thread every 10 ms

    def tick():
        for _ in range(10):
            eventlet.sleep(0.01)
            seen.append(hasher.finished)

    ticker = eventlet.spawn(tick)
    pool = eventlet.GreenPool()
    list(pool.imap(lambda n: passwords.verify("$slow$pw", "pw"), range(4)))  # ≥ 0.2 s in threads
    ticker.wait()
    assert hasher.most == 1
    assert any(done < 4 for done in seen), seen  # it ran while hashes were still going


def test_the_configured_cost_is_the_hashs_and_a_hash_of_another_cost_still_verifies():
    production = Passwords.from_settings(load(AuthSettings, {}))
    cheap = Passwords.from_settings(load(AuthSettings, 
        {"AUTH": {"HASH_TIME_COST": "1", "HASH_MEMORY_KIB": 8, "HASH_PARALLELISM": 1, "HASH_CONCURRENCY": 1}}))
    assert production.hasher.time_cost == 3 and production.hasher.memory_cost == 65536
    assert production.hasher.parallelism == 4
    stored = cheap.hash("Review@2026")
    assert stored.startswith("$argon2id$") and "m=8,t=1,p=1" in stored
    assert production.verify(stored, "Review@2026") and not production.verify(stored, "wrong")
    assert not cheap.verify(None, "Review@2026")  # no account: checked against the dummy
