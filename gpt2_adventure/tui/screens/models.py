"""Installed and catalog models; pulling one shows its progress here."""

from __future__ import annotations

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, ProgressBar, Static

from gpt2_adventure.errors import UserError
from gpt2_adventure.safe_text import printable
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.units import size_text


def _size(n: int | None) -> str:
    return size_text(n) if n else "-"


class ModelsScreen(Screen[bool]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    ModelsScreen #heading { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    ModelsScreen DataTable { height: 1fr; }
    ModelsScreen #bar { height: 3; padding: 0 1; }
    ModelsScreen ProgressBar { width: 1fr; padding: 1 0 0 0; }
    ModelsScreen Button { margin: 0 1 0 0; }
    ModelsScreen #state { height: 1; padding: 0 1; }
    """

    def __init__(self, pull: str | None = None) -> None:
        super().__init__()
        self._auto_pull = pull
        self._pulled = False

    def compose(self) -> ComposeResult:
        yield Static("Models", id="heading")
        yield DataTable(cursor_type="row", id="table")
        yield Static("", id="state")
        with Horizontal(id="bar"):
            yield Button("Pull", id="pull", variant="primary")
            yield Button("Remove", id="remove")
            yield ProgressBar(id="progress", show_eta=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("model", "parameters", "Q8_0 download", "installed", "about")
        self._fill()
        table.focus()
        if self._auto_pull:
            self._pull(self._auto_pull)

    def _fill(self) -> None:
        from gpt2_adventure.engine.models.catalog import catalog
        from gpt2_adventure.engine.models.store import installed

        table = self.query_one(DataTable)
        table.clear()
        have = installed(self.app.launch.paths)
        for entry in catalog():
            mine = ", ".join(f"{m.quant} ({_size(m.size)})" for m in have if m.name == entry.name)
            table.add_row(entry.name, f"{entry.parameters / 1e6:.0f}M",
                          _size(entry.sizes.get("Q8_0")), mine or "-", entry.description,
                          key=entry.name)
        for model in have:
            if model.name not in {e.name for e in catalog()}:
                table.add_row(Text(printable(model.name)), "?", "-", _size(model.size),
                              Text(printable(str(model.path))), key=model.name)

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        name = self._selected()
        if name is None:
            return
        if event.button.id == "pull":
            self._pull(name)
        elif event.button.id == "remove":
            from gpt2_adventure.engine.models.store import remove

            removed = remove(self.app.launch.paths, name)
            self.notify(f"removed {len(removed)} file(s)" if removed else "not installed",
                        markup=False)
            self._fill()

    def _pull(self, name: str) -> None:
        self.query_one("#state", Static).update(f"pulling {name}…")
        self.query_one("#pull", Button).disabled = True
        self._download(name)

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _download(self, name: str) -> None:
        from gpt2_adventure.engine.models.download import pull

        bar = self.query_one(ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total or None, progress=done)

        try:
            path = pull(self.app.launch.paths, name, progress=progress)
        except UserError as error:
            message = str(error) + (f" — {error.hint}" if error.hint else "")
            self.app.call_from_thread(self._done, False, message)
            return
        self.app.call_from_thread(self._done, True, f"installed {name}: {path}")

    def _done(self, ok: bool, message: str) -> None:
        self.query_one("#pull", Button).disabled = False
        self.query_one("#state", Static).update(Text(printable(message),
                                                     style="green" if ok else "red"))
        self._pulled = self._pulled or ok
        self._fill()
        if ok and self._auto_pull:
            self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(self._pulled)
