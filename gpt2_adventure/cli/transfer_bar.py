"""A download's progress bar on the terminal, drawn from the first byte received.

Until then there is nothing to show: an offline pull, or a server that cannot be reached,
prints its error and nothing else, never an empty bar above it. Lines reported before the
bar starts are printed as they come; after, above the bar.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


class TransferBar:
    """``update(done, total)`` and ``report(line)`` for ``download.pull``; a context manager
    that removes nothing it did not draw."""

    def __init__(self, description: str, console: Console | None = None,
                 report_style: str = "") -> None:
        from rich.console import Console

        self.description = description
        self.console = console or Console()
        self.report_style = report_style
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> TransferBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    @property
    def started(self) -> bool:
        return self._progress is not None

    def update(self, done: int, total: int) -> None:
        if self._progress is None:
            if done <= 0:
                return  # nothing received yet: no bar
            self._start()
        assert self._progress is not None and self._task is not None
        self._progress.update(self._task, completed=done, total=total or None)

    def report(self, line: str) -> None:
        from rich.text import Text

        from gpt2_adventure.safe_text import printable

        console = self._progress.console if self._progress is not None else self.console
        console.print(Text(printable(line), style=self.report_style))

    def _start(self) -> None:
        from rich.markup import escape
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        from gpt2_adventure.safe_text import printable

        self._progress = Progress("{task.description}", BarColumn(), DownloadColumn(),
                                  TransferSpeedColumn(), console=self.console)
        # The description is rendered as markup: a name is data.
        self._task = self._progress.add_task(escape(printable(self.description)), total=None)
        self._progress.start()
