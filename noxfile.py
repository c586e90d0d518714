"""Developer tasks: ``nox -s tests``, ``tests_floor``, ``tests_newest``, ``lint``,
``typecheck``, ``docs``, ``bench``, ``lock``.

Every session but ``tests_newest`` installs from a constraints file of the exact versions CI
last passed with (``constraints/*.txt``, written by ``nox -s lock``), so a new release of moto
or botocore never turns a landing red; ``tests_newest`` runs the suite on the newest releases
the package's ranges allow, so drift is seen on purpose.
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
#: Exact versions for each kind of environment (``nox -s lock`` rewrites them).
LOCK = "constraints/tests.txt"
LOCK_FLOOR = "constraints/floor.txt"
LOCK_AIOBOTO3 = "constraints/aioboto3.txt"
#: pytest-xdist: one worker per CPU, each with its own moto server; a test file stays on one
#: worker (its module fixtures are made once). ``nox -s tests -- -n 0`` runs in one process.
WORKERS = ["-n", "auto", "--dist", "loadfile"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite against a real moto server (no AWS account needed)."""
    session.install("-c", LOCK, "-e", ".[test,cli]")
    session.run("pytest", *WORKERS, *session.posargs)


@nox.session(python=PYTHON)
def tests_newest(session: nox.Session) -> None:
    """Run the test suite on the newest releases the package's ranges allow (no lock)."""
    session.install("--upgrade", "-e", ".[test,cli]")
    _versions(session)
    session.run("pytest", *WORKERS, *session.posargs)


def _versions(session: nox.Session) -> None:
    session.run(
        "python",
        "-c",
        "import aiobotocore, botocore, moto, pydantic; "
        "print(aiobotocore.__version__, botocore.__version__, moto.__version__, "
        "pydantic.__version__)",
    )


#: The oldest aiobotocore the package supports (``pyproject.toml``: ``aiobotocore>=2.25.1``).
AIOBOTOCORE_FLOOR = "2.25.1"
#: What depends on aiobotocore's internals: the client, the fast path and its fallbacks (in
#: any order).
FLOOR_TESTS = [
    "tests/transport/test_patches.py",
    "tests/transport/test_client_edges.py",
    "tests/transport/test_service.py",
    "tests/transport/test_fast_path.py",
]


@nox.session(python=PYTHON)
def tests_floor(session: nox.Session) -> None:
    """Run the client and fast-path tests on the oldest supported aiobotocore (and its botocore)."""
    session.install("-c", LOCK_FLOOR, "-e", ".[test]", f"aiobotocore=={AIOBOTOCORE_FLOOR}")
    _versions(session)
    session.run("pytest", *WORKERS, *(session.posargs or FLOOR_TESTS))


@nox.session(python=PYTHON)
def tests_aioboto3(session: nox.Session) -> None:
    """Run the aioboto3 interop tests (aioboto3 pins aiobotocore, so it gets its own venv)."""
    session.install("-c", LOCK_AIOBOTO3, "-e", ".[test,aioboto3]")
    session.run("pytest", "tests/transport/test_aioboto3.py", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-c", LOCK, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and this file."""
    session.install("-c", LOCK, "-e", ".[dev]")
    session.run("mypy", "--strict", "aws_batch_async", "tests", "docs/examples", "noxfile.py")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs --strict (API reference from docstrings)."""
    session.install("-c", LOCK, "-e", ".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmark and write docs/performance.md (``-- --quick`` for a short run)."""
    session.install("-c", LOCK, "-e", ".[bench]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)


@nox.session(python=PYTHON, venv_backend="uv")
def lock(session: nox.Session) -> None:
    """Write constraints/*.txt: the newest versions the ranges allow, for the sessions above."""
    common = ["--python-version", PYTHON, "--python-platform", "linux", "--no-header"]
    common += ["--annotation-style", "line", "--upgrade", "--quiet"]
    compile_ = ["uv", "pip", "compile", "pyproject.toml", *common]
    extras = ["--extra", "test", "--extra", "cli", "--extra", "dev", "--extra", "docs"]
    session.run(*compile_, *extras, "--extra", "bench", "-o", LOCK)
    session.run(*compile_, "constraints/floor.in", "--extra", "test", "-o", LOCK_FLOOR)
    session.run(*compile_, "--extra", "test", "--extra", "aioboto3", "-o", LOCK_AIOBOTO3)
