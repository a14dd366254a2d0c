"""Ctrl-C and SIGTERM during training: the first asks the loop to stop after its iteration."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM: the loop finishes its iteration, saves and stops."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def is_set(self) -> bool:
        return self.signum is not None


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """A :class:`StopRequest` set by Ctrl-C or SIGTERM. The first signal only asks to stop;
    the handlers that were there before come back at once, so a second Ctrl-C aborts."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    def handler(signum, frame):  # noqa: ARG001
        stop.signum = signum
        restore()

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        restore()


