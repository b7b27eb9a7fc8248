"""Ctrl-C (SIGINT) and SIGTERM around the steps of a run that must not be cut short.

- :func:`noting_interrupts`: a press still interrupts (KeyboardInterrupt where it lands), and
  is noted, so that a step that turned it into something else (dbt reports a failed build;
  DuckDB raises ``RuntimeError: Query interrupted``) can be told from a real failure: the run
  then ends as interrupted (exit 130), not as a failed control or an unexpected error.
- :func:`deferred_interrupts`: from the history's record of the run (its outputs already
  written as the folder's next generation, not yet visible) until the output folder has
  switched to that generation and the history marked the run switched, a press (or SIGTERM)
  is noted and
  acted on only after the block. The history records the run just before the switch: a run
  stopped in between would be settled only by the next run to the folder
  (``history.forget_run_never_published``), and the command would say nothing was published
  of a run that may have been.

Python runs signal handlers in the main thread only; elsewhere both blocks change nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_Handler = Callable[[int, Any], Any] | int | signal.Handlers | None


def _restore(signum: int, previous: _Handler) -> None:
    if previous is None:  # not set from Python: Python's own is the nearest
        previous = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    signal.signal(signum, previous)


@contextmanager
def noting_interrupts() -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt as usual inside the block, and sets the event given."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:  # started ignoring Ctrl-C (nohup, a background job)
        yield pressed
        return

    def press(signum: int, frame: Any) -> None:
        pressed.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, press)
    try:
        yield pressed
    finally:
        _restore(signal.SIGINT, previous)


@contextmanager
def deferred_interrupts() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM only set the event given inside the block; nothing is raised."""
    received = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signals = [signum for signum, handler in previous.items() if handler != signal.SIG_IGN]
    for signum in signals:
        signal.signal(signum, lambda *_: received.set())
    try:
        yield received
    finally:
        for signum in signals:
            _restore(signum, previous[signum])
