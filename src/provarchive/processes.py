"""What a child process of a command does first: die with its parent, leave interrupts
to it. Standard library only, so that any layer's children can use it."""

from __future__ import annotations

import contextlib
import signal
import sys


def die_with_parent() -> None:
    """Be killed (SIGKILL) when the parent dies, even by SIGKILL (Linux; elsewhere a
    child notices its parent is gone when its pipe closes)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def leave_interrupts_to_parent() -> None:
    """Ignore SIGINT and SIGTERM: a Ctrl-C reaches the whole process group, and the
    parent decides, at its next safe point, what stops."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
