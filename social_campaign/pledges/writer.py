"""Group commit for pledge intake: one writer thread stores the pledges of many concurrent requests per transaction.

Why: a pledge is a short write transaction. Taken one per request, every pledge pays for a thread-pool hop, a pool
checkout, ``BEGIN IMMEDIATE`` (SQLite: writers queue on one lock) and a commit. Here requests hand their prepared
pledge (:class:`~social_campaign.pledges.intake.Intake`) to a queue; the writer takes everything waiting (up to
``max_batch``), stores it with :func:`~social_campaign.pledges.intake.store_all` in ONE transaction, commits, and only
then resolves each request's future. So nothing is acknowledged before it is durable, and a crash loses only
pledges whose requests never got an answer.

Semantics are those of one transaction per pledge, in arrival order: each pledge sees the ones before it in the batch
(duplicates, rate limits, the per-address email cap). If a batch fails, it is rolled back and its pledges are retried
one transaction each, so one failing pledge fails alone (its request gets the error) and the others are stored.

The thread starts on the first pledge and exits after ``idle_seconds`` without work (restarting on the next one), so
an app that is never shut down cleanly (tests) leaves no thread behind for long. :meth:`close` drains and stops it.
It runs as the supervised loop ``pledge-writer`` (``supervise.py``): an unexpected error fails that batch's requests
(never leaves them waiting), is logged once per cause, and the thread goes on.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future

from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.pledges.intake import Intake, store_all

log = logging.getLogger(__name__)

_Job = tuple[Intake, "Future[None]"]


class PledgeWriter:
    """Stores prepared pledges in batches on one background thread. Thread-safe; one per web process."""

    def __init__(self, settings: Settings, engine: Engine, *, max_batch: int = 128, idle_seconds: float = 5.0) -> None:
        self.settings = settings
        self.engine = engine
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None wakes the thread up to stop
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = 0  # transactions committed (for the benchmark's report)
        self.stored = 0

    def submit(self, item: Intake) -> Future[None]:
        """Queue ``item``; the future resolves (or fails with the error) once its transaction has committed."""
        future: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pledge writer is closed")
            self._queue.put((item, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pledge-writer", daemon=True)
                self._thread.start()
        return future

    async def store(self, item: Intake) -> None:
        """Await the durable storage of ``item`` from the event loop (no thread-pool hop)."""
        await asyncio.wrap_future(self.submit(item))

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new pledges, let the writer finish what is queued, and stop it."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def _take_batch(self) -> list[_Job] | None:
        """Block for the first job, then take whatever else is waiting. ``None`` when idle (the thread then ends)."""
        first: _Job | None = None
        while first is None:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                pass
            if first is None:
                with self._lock:
                    if self._queue.empty():  # idle (or closed) and nothing left: end the thread
                        self._thread = None
                        return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:  # close() asked to stop: handle it after this batch
                self._queue.put(None)
                break
            batch.append(job)
        return batch

    def _run(self) -> None:
        """The writer thread, supervised: nothing that goes wrong here ends it while pledges wait (see ``supervise``)."""
        from social_campaign.supervise import Loop

        loop = Loop("pledge-writer", role="web", engine=self.engine, interval=self.idle_seconds)
        try:
            while (batch := self._take_batch()) is not None:
                loop.beat()
                with loop.guard(wait=False):
                    try:
                        live = [(item, fut) for item, fut in batch if fut.set_running_or_notify_cancel()]
                        if live:
                            self._write(live)
                    finally:  # whatever happened, no request is left waiting for an answer
                        _fail_unanswered(batch)
        finally:
            loop.close()  # idle (or closed): a clean stop; the next pledge starts a new thread

    def _write(self, batch: list[_Job]) -> None:
        try:
            with self.engine.begin() as conn:
                store_all(conn, self.settings, [item for item, _ in batch])
        except Exception as exc:  # retried one by one below: each request gets its own outcome
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            log.warning("a batch of %d pledges failed (%s); retrying them one by one", len(batch), type(exc).__name__)
            for job in batch:
                self._write([job])
            return
        self.batches += 1
        self.stored += len(batch)
        for _, fut in batch:
            fut.set_result(None)


def _fail_unanswered(batch: list[_Job]) -> None:
    for _, fut in batch:
        if not fut.done():
            fut.set_exception(RuntimeError("the pledge writer failed to store this pledge"))
