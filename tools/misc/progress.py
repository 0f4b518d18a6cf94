"""A progress bar on stderr for the tools: rich's (the stack has it: mmengine needs rich).

Shown only when stderr is a terminal, so logs and pipes get no control characters; while it is
shown, lines printed to a stdout that is a terminal too go above the bar.
"""
import sys
from typing import Optional

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)


class ProgressBar:
    """``with ProgressBar(total, 'text') as bar: ... bar.advance(); bar.describe('text')``.

    Args:
        total (int): steps of the whole task.
        description (str): the text before the bar.
        enabled (bool): False: show nothing (e.g. a ``--no-progress`` option). The bar is also
            off when stderr is not a terminal.
    """

    def __init__(self, total: int, description: str = '', enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total, self.description = total, description
        self.progress: Optional[Progress] = None

    def __enter__(self) -> 'ProgressBar':
        if self.enabled:
            self.progress = Progress(
                TextColumn('{task.description}'),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn('eta'),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                redirect_stdout=sys.stdout.isatty(),
                redirect_stderr=False)
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def advance(self, steps: int = 1) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, steps)

    def describe(self, description: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=description)
