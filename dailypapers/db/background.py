"""One background thread that runs a task "soon": :class:`Soon` keeps web requests free of slow work.

A submission is stored at once and embedded here; a confirmation email is recorded at once and sent here. At
most one thread per task runs; a request made while it runs makes it run once more when it ends, so nothing
asked for is left out, and a burst of requests costs one or two runs, not one each. A failure is logged and
left to the scheduled job that does the same work (``index.embed``, ``mail.deliver``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Soon:
    """``task`` run in a daemon thread named ``name`` whenever :meth:`request` is called (coalesced)."""

    def __init__(self, name: str, task: Callable[[], object], *, failure: str) -> None:
        self.name, self._task, self._failure = name, task, failure
        self._lock = threading.Lock()  # guards the two fields below
        self._thread: threading.Thread | None = None
        self._wanted = False

    def request(self) -> None:
        """Run the task in the background now, or once more after the run in progress."""
        with self._lock:
            self._wanted = True
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run_while_wanted, name=self.name, daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the runs in progress; False if one still runs after ``timeout`` seconds."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _run_while_wanted(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            try:
                self._task()
            except Exception:  # the scheduled job picks the work up later
                log.exception(self._failure)
