"""The waiting process behind tests/helpers/cli.py: imports the heavy third-party libraries once, then forks one
process per `leadrouter` command asked for on stdin. A forked command gets the environment, arguments, output
files and exit code a fresh `python -c "from commands.main import main; main()"` would; the project's modules
are imported only in it, after its environment is set (some read it at import)."""

from __future__ import annotations

import json
import os
import sys

# what a `leadrouter` command imports on its way, slowest first; nothing here reads the environment at import
# except GX's analytics switch, which leadrouter.validate.gx sets to the same value before importing GX
PRELOAD = (
    "anthropic",
    "pandas",
    "sklearn.ensemble",
    "great_expectations",
    "sqlalchemy",
    "typer",
    "rich.table",
)


def serve() -> None:
    """Answer each request line with the forked command's pid, then its exit code, until stdin closes."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in PRELOAD:
        __import__(name)
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _command(request)  # never returns: the interpreter exits as a command's would
        answers.write(f"{pid}\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(f"{os.waitstatus_to_exitcode(status)}\n")
        answers.flush()


def _command(request: dict) -> None:
    """In the forked process: become the command, then exit with its code (SystemExit unwinds serve(), and the
    interpreter exits as a command's would, atexit handlers included)."""
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["-c", *request["args"]]
    from commands.main import main

    main()  # an uncaught error reaches the interpreter, which prints it and exits 1, as it would
    sys.exit(0)  # a command that returns instead of exiting must not go back to serving requests
    raise SystemExit(0)
