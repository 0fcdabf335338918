"""The commands' console, and how a command fails: one line naming the error, then an exit code."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from leadrouter.inert import terminal

console = Console()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error <message>` and exit with `code`. The message is plain text (escaped here) and prints on
    one line: a path or a quoted column never breaks where the terminal's width happens to fall."""
    console.print(f"[red]error[/red] {terminal(message, urls=True)}", soft_wrap=True)
    raise typer.Exit(code)
