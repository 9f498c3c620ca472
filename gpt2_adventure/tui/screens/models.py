"""Installed and catalog models; pull one (by catalog name or any Hub repository) and play it,
or play a .gguf file the player has (typed as a path).

A pull runs on a worker and shows its stages and a progress bar here; leaving the screen
cancels it (the partial file stays, and the next pull resumes it).
"""

from __future__ import annotations

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from gpt2_adventure.errors import UserError
from gpt2_adventure.safe_text import printable
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.tui.model_file import checked_model_file, for_the_tui, is_model_path
from gpt2_adventure.tui.screens.dialogs import Choice
from gpt2_adventure.units import size_text

# The quants a player can ask for; a repository without the asked one gets the nearest.
QUANT_CHOICES = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "F16")


def _size(n: int | None, listed: bool = True) -> str:
    return ("" if listed else "~") + size_text(n) if n else "-"


class PullCancelled(Exception):
    """Raised from the progress callback when the screen has left: stops the download."""


class ModelsScreen(Screen[bool]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "back", "Back"), Binding("p", "play", "Play with it")]
    DEFAULT_CSS = """
    ModelsScreen #heading { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    ModelsScreen DataTable { height: 1fr; }
    ModelsScreen #repo-row { height: 3; padding: 0 1; }
    ModelsScreen #repo { width: 1fr; }
    ModelsScreen #quant { width: 24; }
    ModelsScreen #convert { width: auto; }
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
        with Horizontal(id="repo-row"):
            yield Input(placeholder="any GPT-2 on the Hugging Face Hub (owner/repo[:QUANT]), "
                                    "or the path of a .gguf file you have",
                        id="repo")
            yield Select([(q + (" (default)" if q == "Q8_0" else ""), q) for q in QUANT_CHOICES],
                         value="Q8_0", allow_blank=False, id="quant")
            yield Checkbox("convert a checkpoint", id="convert")
        with Horizontal(id="bar"):
            yield Button("Pull", id="pull", variant="primary")
            yield Button("Play with it", id="play")
            yield Button("Remove", id="remove")
            yield ProgressBar(id="progress", show_eta=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("model", "parameters", "download", "installed", "about")
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
        names = {entry.name for entry in catalog()}
        for entry in catalog():
            mine = ", ".join(f"{m.quant} ({_size(m.size)})" for m in have if m.name == entry.name)
            fetched = entry.source_quant or "Q8_0"  # aidungeon2: an F16, made Q8_0 here
            download = f"{fetched} {_size(entry.download_size(), entry.size_is_listed(fetched))}"
            table.add_row(entry.name, f"{entry.parameters / 1e6:.0f}M", download, mine or "-",
                          entry.description, key=entry.name)
        others: dict[str, list[str]] = {}
        for model in have:
            if model.name not in names:
                others.setdefault(model.name, []).append(f"{model.quant or '?'} "
                                                         f"({_size(model.size)})")
        for name, files in others.items():  # repository models and folders of the player's
            table.add_row(Text(printable(name)), "?", "-", Text(printable(", ".join(files))),
                          "from the Hub" if "/" in name else "", key=name)

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _say(self, message: str, ok: bool | None = None) -> None:
        style = "" if ok is None else "green" if ok else "red"
        self.query_one("#state", Static).update(Text(printable(message), style=style))

    # -- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "pull":
            self._pull_what_was_asked()
        elif event.button.id == "play":
            self.action_play()
        elif event.button.id == "remove":
            self._remove()

    def on_data_table_row_selected(self) -> None:  # Enter on a row
        self.action_play()

    @on(Input.Submitted, "#repo")
    def _repo_submitted(self) -> None:
        self._pull_what_was_asked()

    def _pull_what_was_asked(self) -> None:
        """The repository typed in the box if any (a .gguf file's path: play it), else the
        model selected in the table."""
        typed = self.query_one("#repo", Input).value.strip()
        if typed and is_model_path(typed):
            self._play_file(typed)
            return
        name = typed or self._selected()
        if name is not None:
            self._pull(name)

    def _play_file(self, typed: str) -> None:
        """Play a GPT-2 .gguf file the player has, where it is (checked first)."""
        try:
            path = checked_model_file(typed)
        except UserError as error:
            self._say(str(error) + (f" — {error.hint}" if error.hint else ""), ok=False)
            return
        self.dismiss(self._pulled)
        self.app.use_model(str(path))

    def _remove(self) -> None:
        """Delete the selected model's files, once the player has said yes."""
        from gpt2_adventure.engine.models.store import installed

        name = self._selected()
        if name is None:
            return
        files = [m for m in installed(self.app.launch.paths) if m.name == name]
        if not files:
            self._say(f"{name} is not installed", ok=False)
            return
        size = _size(sum(m.size for m in files))
        self.app.push_screen(
            Choice(f"Remove {name}?",
                   f"Delete its {len(files)} file(s) ({size}) from the model folder? "
                   "Playing it again means downloading it again.",
                   [("remove", "Remove"), ("keep", "Keep")]),
            lambda choice: self._really_remove(name) if choice == "remove" else None)

    def _really_remove(self, name: str) -> None:
        from gpt2_adventure.engine.models.store import remove

        try:
            removed = remove(self.app.launch.paths, name)
        except UserError as error:
            self._say(str(error), ok=False)
            return
        self._say(f"removed {len(removed)} file(s)" if removed else f"{name} is not installed",
                  ok=bool(removed))
        self._fill()

    def action_play(self) -> None:
        """Play the selected model from now on: the open story goes on with it."""
        from gpt2_adventure.engine.models.store import installed

        name = self._selected()
        if name is None:
            return
        if not any(m.name == name for m in installed(self.app.launch.paths)):
            self._say(f"{name} is not installed: pull it first", ok=False)
            return
        self.dismiss(self._pulled)
        self.app.use_model(name)

    def _pull(self, name: str) -> None:
        quant = self.query_one("#quant", Select).value
        convert = self.query_one("#convert", Checkbox).value
        self._say(f"pulling {name}…")
        self.query_one("#pull", Button).disabled = True
        # The default is no quant at all: Q8_0, or the nearest a repository has; an explicit
        # quant the repository lacks is refused.
        self._download(name, str(quant) if quant != "Q8_0" else None, convert)

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _download(self, name: str, quant: str | None, convert: bool) -> None:
        from gpt2_adventure.engine.models.download import pull

        bar = self.query_one(ProgressBar)
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise PullCancelled
            self.app.call_from_thread(bar.update, total=total or None, progress=done)

        def report(message: str) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._say, message)

        try:
            path = pull(self.app.launch.paths, name, quant, progress=progress, convert=convert,
                        report=report)
        except PullCancelled:
            return
        except UserError as error:
            message = str(error) + (f" — {for_the_tui(error.hint)}" if error.hint else "")
            self.app.call_from_thread(self._done, False, message)
            return
        except Exception as error:  # noqa: BLE001 - said on screen; the screen goes on
            self.app.call_from_thread(self._done, False, f"{type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._done, True, f"installed {name}: {path}")

    def _done(self, ok: bool, message: str) -> None:
        self.query_one("#pull", Button).disabled = False
        self._say(message, ok)
        self._pulled = self._pulled or ok
        self._fill()
        if ok and self._auto_pull:
            self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(self._pulled)
