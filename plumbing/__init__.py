"""What the lessons import besides Theano, one job per module; not a lesson itself.

    defaults.py   Theano's set-up: import it before theano (versions, flags, threads, faster ops)
    versions.py   the Python and numpy versions Theano 1.0.5 runs on
    speedups.py   faster equivalents of slow Theano CPU ops, same results
    cacheable.py  twins of the ops Theano's cache would compile again in every process
    compiling.py  a line on stderr when Theano starts compiling C code (a cold cache)
    machine.py    what this machine is: its CPU, whether it has a system OpenBLAS
    cli.py        run(main): the command line of a lesson, from the keywords of its main()
    progress.py   Progress: the epoch line, the bar inside an epoch, the stop on a NaN cost
    interrupt.py  Ctrl-C that lets the current step finish
    log.py        the --log CSV file, one row per epoch
    paths.py      output paths checked before any work; the one-line error when a write fails
    saving.py     --save: weights into an .npz file, never half-written
    graph.py      --graph: the graph before and after Theano's optimisations
    bootstrap.py, check_fresh.sh, venv_hook.py: the .venv the Makefile sets up (not imported by lessons)

The tools that make results (reproduce, figures, the old net's experiment, bench, the book) are in
tools/, and import from here; nothing here imports from tools/ or from a lesson.
"""
