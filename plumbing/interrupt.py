"""Ctrl-C that lets the current step finish: the first one is noted, a second one stops at once."""
import signal
import weakref


class DeferredInterrupt:
    """While installed, the first Ctrl-C (SIGINT) only sets `.pending`; the owner checks it between
    steps. A second Ctrl-C raises KeyboardInterrupt at once. restore() puts back the handler that
    was there before (if ours is still in place)."""

    def __init__(self):
        self.pending = False
        me = weakref.ref(self)  # the handler must not keep this object alive

        def handler(signum, frame):
            interrupt = me()
            if interrupt is None or interrupt.pending:
                raise KeyboardInterrupt
            interrupt.pending = True

        self.previous = signal.signal(signal.SIGINT, handler)
        self.handler = handler

    def restore(self):
        if self.handler is not None:
            if signal.getsignal(signal.SIGINT) is self.handler:
                signal.signal(signal.SIGINT, self.previous)
            self.handler = None
