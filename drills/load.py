"""A steady load of single-row writes, each with its own (symbol, date) and its own close, and a
/readyz prober; both record every answer with its time since the load started."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import requests

SYMBOLS = 8
FIRST_DATE = dt.date(2000, 1, 3)
HTTP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Write:
    index: int
    symbol: str
    date: dt.date
    close: float

    @classmethod
    def numbered(cls, index: int) -> Write:
        # close = 1 + index/1024 is exact in binary, so the stored float compares equal.
        day = FIRST_DATE + dt.timedelta(days=index // SYMBOLS)
        return cls(index, f"DUR{index % SYMBOLS}", day, 1.0 + index / 1024)


@dataclass(frozen=True)
class Answer:
    write: Write
    sent_at: float
    answered_at: float
    status: int | None  # None: no HTTP answer at all
    retry_after: str | None
    error: str | None


@dataclass(frozen=True)
class Probe:
    sent_at: float
    at: float  # when the answer came: a probe may wait up to 2 s for the database
    status: int | None
    error: str | None


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)


class Load:
    """Sends `rate` writes a second from a scheduler thread; slow answers never slow the rate."""

    def __init__(self, base_url: str, rate: float, workers: int, clock: Clock) -> None:
        self.url = base_url
        self.rate = rate
        self.clock = clock
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="write")
        self.futures: list[Future[Answer]] = []
        self.stopping = threading.Event()
        self.scheduler = threading.Thread(target=self._schedule, name="load", daemon=True)

    def start(self) -> None:
        self.scheduler.start()

    def _schedule(self) -> None:
        index = 0
        begin = time.monotonic()
        while not self.stopping.is_set():
            self.futures.append(self.pool.submit(self._send, Write.numbered(index)))
            index += 1
            self.stopping.wait(max(0.0, begin + index / self.rate - time.monotonic()))

    def _send(self, write: Write) -> Answer:
        sent = self.clock.now()
        row = [{"date": write.date.isoformat(), "close": write.close}]
        try:
            response = requests.post(
                f"{self.url}/v1/instruments/{write.symbol}/prices", json=row, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as exc:
            return Answer(write, sent, self.clock.now(), None, None, type(exc).__name__)
        retry_after = response.headers.get("Retry-After")
        return Answer(write, sent, self.clock.now(), response.status_code, retry_after, None)

    def stop(self) -> list[Answer]:
        """Stop sending, wait for every answer, and return them in sending order."""
        self.stopping.set()
        self.scheduler.join()
        answers = [future.result() for future in self.futures]
        self.pool.shutdown()
        return answers

    def abandon(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


class Prober:
    """GET /readyz every `interval` seconds."""

    def __init__(self, base_url: str, interval: float, clock: Clock) -> None:
        self.url = f"{base_url}/readyz"
        self.interval = interval
        self.clock = clock
        self.probes: list[Probe] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._probe, name="readyz", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _probe(self) -> None:
        while not self.stopping.is_set():
            sent = self.clock.now()
            try:
                status: int | None = requests.get(self.url, timeout=5).status_code
                error = None
            except requests.RequestException as exc:
                status, error = None, type(exc).__name__
            self.probes.append(Probe(sent, self.clock.now(), status, error))
            self.stopping.wait(self.interval)

    def stop(self) -> list[Probe]:
        self.stopping.set()
        self.thread.join()
        return self.probes
