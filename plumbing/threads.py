"""ThreadTuner: all the cores, or one thread, whichever trains faster right now.

A training step is a string of short parallel loops (OpenBLAS's GEMMs, Theano's OpenMP loops), each
ending when its slowest thread ends. On a quiet machine two threads beat one. When other programs
keep the cores busy, one of our threads is often waiting for a core, and every loop waits for it:
on 2 cores with two CPU-bound processes beside it, the modern net's step took 4.2 times as long
with two threads, and 1.9 times as long with one (docs/performance.md#threads). No setting chosen
at start suits both, and the load changes while a lesson trains, so the tuner measures: every so
often it runs a few steps with the other setting and keeps it if it was faster by a fifth. It
tries less often each time the other setting loses (64 steps, then 128, ... up to 1024), and at
once when the steps of the current one become 1.5 times slower or faster: the load has changed.

OpenMP's thread count changes no result here, but a GEMM on two OpenBLAS threads may round
differently from one on a single thread: two runs of a lesson that met different loads can differ
in the last bits. Set OMP_NUM_THREADS or OPENBLAS_NUM_THREADS and the tuner leaves the threads as
you set them; in a process without Theano (a port) it does nothing.

Progress (plumbing/progress.py) calls step() after each training step and pause() before the test
evaluation; the bench's Theano workers do the same, so the bench measures what the lessons get.
"""
import os
import statistics
import sys
import time

FIRST_TRIAL = 16  # steps before the first trial: the first calls allocate, and the bench warms up 40
PERIOD, MAX_PERIOD = 64, 1024  # steps between trials: doubled each time the other setting loses
TRIAL = 6  # timed steps of each trial, after one step that is not counted (threads waking or starting)
BETTER = 0.8  # the other setting is kept when its median step is under 0.8 of the current one's: no flapping
CHANGED = 1.5  # a trial starts at once when the current setting's steps become this much slower or faster


def cores():
    """The cores this process may run on (its affinity, which taskset and containers set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ThreadTuner:
    def __init__(self, clock=time.perf_counter, most=None):
        self.clock = clock
        self.most = most or cores()  # the threads of the "all cores" setting
        # Theano's libraries only: a port's framework (plumbing.progress serves the ports too) keeps its own threads
        self.enabled = (self.most > 1 and "theano" in sys.modules
                        and not {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"} & set(os.environ))
        self.threads = self.most  # the setting in use
        self.libraries = None  # threadpoolctl's controllers of the loaded OpenBLAS and OpenMP libraries
        self.last = None  # when the last step ended; None: the next interval is not a step
        self.times = []  # this setting's recent steps
        self.reference = None  # the median step of this setting when it last won or held its ground
        self.period, self.until_trial = PERIOD, FIRST_TRIAL
        self.trial = None  # during a trial: (the setting before it, its median step)
        self.skip = False  # the next step follows a switch: threads waking or starting, not counted
        self.switches = 0

    def pause(self):
        """The time until the next step() is not a training step (a test evaluation, saving)."""
        self.last = None

    def step(self):
        """Call after each training step."""
        if not self.enabled:
            return
        now = self.clock()
        seconds, self.last = (None if self.last is None else now - self.last), now
        if seconds is None or self.skip:
            self.skip = False  # the next step follows a switch: threads waking or starting, not counted
            return
        self.times = (self.times + [seconds])[-TRIAL:]
        if self.trial is not None:
            if len(self.times) == TRIAL:
                self._judge()
            return
        self.until_trial -= 1
        if len(self.times) < TRIAL:
            return
        median = statistics.median(self.times)
        changed = self.reference is not None and not self.reference / CHANGED < median < CHANGED * self.reference
        if self.until_trial <= 0 or changed:  # the load has changed: the other setting may now be faster
            self.trial = (self.threads, median)
            self._use(1 if self.threads > 1 else self.most)

    def _judge(self):
        before, before_median = self.trial
        median = statistics.median(self.times)
        self.trial = None
        if median < BETTER * before_median:  # the other setting wins: keep it, and look again soon
            self.reference, self.period = median, PERIOD
        else:  # back, and look again later
            self._use(before)
            self.reference, self.period = before_median, min(2 * self.period, MAX_PERIOD)
        self.until_trial = self.period

    def _use(self, threads):
        if self.libraries is None:
            from threadpoolctl import ThreadpoolController
            self.libraries = [c for c in ThreadpoolController().lib_controllers
                              if c.user_api == "openmp" or c.internal_api == "openblas"]
        for library in self.libraries:
            library.set_num_threads(threads)
        self.threads, self.times, self.skip = threads, [], True
        self.switches += 1
