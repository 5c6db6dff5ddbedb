"""The tools that make the results, apart from what the lessons import (plumbing/):

    lessons.py     the list of lessons, and importing one as a module
    logs.py        reading the lessons' --log files; recording what was run
    reproduce.py   the talk's table over seeds, and the k-NN baseline
    figures/       the pictures, from what the lessons wrote (--log, --save)
    old_net.py     the old net's experiment: why 95.7 % and not 98.4 %
    bench/         speed and memory against PyTorch and JAX
    book/          the lesson pages and notebooks, built from the scripts

Run them from the lessons' folder with `python -m tools.NAME` (the Makefile does). They read what
the lessons write and call the lessons' public functions; they never patch a lesson.
"""
