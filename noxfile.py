"""Developer tasks: ``nox -s tests``, ``tests_floor``, ``lint``, ``typecheck``, ``docs``,
``bench``.
"""

from __future__ import annotations

import os

import nox

#: uv when it is installed (``pip install "nox[uv]"``: much faster installs), else venv + pip.
nox.options.default_venv_backend = "uv|venv"
#: uv does not compile bytecode by default (pip does); with PYTHONDONTWRITEBYTECODE set, every
#: interpreter the tests start (CLI runs, LocalBatch children) would compile its imports again.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.sessions = ["tests", "tests_floor", "tests_aioboto3", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite against a real moto server (no AWS account needed)."""
    session.install("-e", ".[test,cli]")
    session.run("pytest", *session.posargs)


#: The oldest aiobotocore the package supports (``pyproject.toml``: ``aiobotocore>=2.25.1``).
AIOBOTOCORE_FLOOR = "2.25.1"
#: What depends on aiobotocore's internals: the client, the fast path and its fallbacks.
#: test_fastpath.py last: on botocore 1.40 its moto-stubber test leaves the in-process moto
#: server unable to reset, which the other two files' fixtures need.
FLOOR_TESTS = ["tests/test_hardening.py", "tests/test_service.py", "tests/test_fastpath.py"]


@nox.session(python=PYTHON)
def tests_floor(session: nox.Session) -> None:
    """Run the client and fast-path tests on the oldest supported aiobotocore (and its botocore)."""
    session.install("-e", ".[test]", f"aiobotocore=={AIOBOTOCORE_FLOOR}")
    session.run(
        "python",
        "-c",
        "import aiobotocore, botocore; print(aiobotocore.__version__, botocore.__version__)",
    )
    session.run("pytest", *(session.posargs or FLOOR_TESTS))


@nox.session(python=PYTHON)
def tests_aioboto3(session: nox.Session) -> None:
    """Run the aioboto3 interop tests (aioboto3 pins aiobotocore, so it gets its own venv)."""
    session.install("-e", ".[test,aioboto3]")
    session.run("pytest", "tests/test_aioboto3.py", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and this file."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "aws_batch_async", "tests", "docs/examples", "noxfile.py")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs --strict (API reference from docstrings)."""
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmark and write docs/performance.md (``-- --quick`` for a short run)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
