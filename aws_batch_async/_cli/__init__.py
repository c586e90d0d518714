"""The command line's implementation; :mod:`aws_batch_async.cli` is its public face.

* ``_app``: the typer application, its commands registered, and ``run``.
* ``_options``: the flags every command shares (connection, ``--json``, ``--debug``), declared
  once and handed to each command as one ``CommonOptions``.
* ``_submitting.submitter``: ``submit``. ``_status``: ``status`` and ``ls``. ``_wait``: ``wait``.
  ``_stop``: ``cancel`` and ``terminate``. ``_logs.reader``: ``logs``. ``_ops``: ``explain``
  (alias ``why``), ``queues`` and ``definitions``.
* ``_local``: ``local``, a LocalBatch in the foreground. ``_demo``: ``demo``, a fan-out on one.
* ``_errors``: one-line errors and exit codes. ``_output``: rendering for people (rich tables)
  and for programs (JSON on stdout). ``_progress``: the live status display of ``wait``,
  ``submit --wait`` and ``demo``. ``_jobs``: job lookups the commands share.

The modules import the library through its public names only (``aws_batch_async``,
``aws_batch_async.testing``), and each other without cycles: ``_app`` imports the commands,
the commands import ``_options`` and the helpers, never ``_app``.
"""
