"""The command line's implementation; :mod:`aws_batch_async.cli` is its public face.

* ``_app``: the typer application, its commands and the error handling around them.
* ``_output``: rendering for people (rich tables) and for programs (JSON on stdout).
* ``_progress``: the live status display of ``wait``, ``submit --wait`` and ``demo``.
* ``_demo``: the ``demo`` command's fan-out on a LocalBatch.
"""
