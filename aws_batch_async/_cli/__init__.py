"""The command line's implementation; :mod:`aws_batch_async.cli` is its public face.

* ``_app``: the typer application and its commands.
* ``_errors``: one-line errors and exit codes.
* ``_output``: rendering for people (rich tables) and for programs (JSON on stdout).
* ``_progress``: the live status display of ``wait``, ``submit --wait`` and ``demo``.
* ``_local``: ``local``, a LocalBatch in the foreground.
* ``_demo``: ``demo``, a fan-out on a LocalBatch.
"""
