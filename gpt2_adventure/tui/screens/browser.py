"""Choosing how a game starts: seeds by genre with a preview, a custom prompt, the model."""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Select, Static
from textual.widgets.option_list import Option

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.model import Mode, Seed
from gpt2_adventure.tui.base import GameApp
from gpt2_adventure.tui.screens.dialogs import EditTurn

CUSTOM = "__custom__"
HEADINGS = {"adventure": "Choose your adventure", "chat": "Choose who to talk to",
            "story": "Choose a story to write"}


def preview_text(seed: Seed) -> Text:
    text = Text(printable(seed.title) + "\n", style="bold")
    if seed.genre:
        text.append(printable(seed.genre) + "\n", style="italic")
    if seed.description:
        text.append("\n" + printable(seed.description) + "\n")
    if seed.chat is not None:
        text.append(f"\nYou talk with {printable(seed.chat.character)}.\n", style="magenta")
    # The scene; a chat that opens on its greeting alone shows the greeting.
    first = seed.openings[0] or (seed.chat.greeting if seed.chat is not None else "")
    text.append("\n" + printable(first).replace("{{", "{").replace("}}", "}"), style="dim")
    return text


class SeedBrowser(Screen[None]):
    app = getters.app(GameApp)
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    SeedBrowser #heading { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    SeedBrowser #main { height: 1fr; }
    SeedBrowser OptionList { width: 40; height: 1fr; }
    SeedBrowser #preview { width: 1fr; padding: 1 2; }
    SeedBrowser #model-row { height: 3; padding: 0 1; dock: bottom; margin: 0 0 1 0; }
    SeedBrowser #model-row Static { width: auto; padding: 1 1 0 0; }
    SeedBrowser Select { width: 40; }
    """

    def __init__(self, mode: Mode) -> None:
        super().__init__()
        self.mode = mode
        self.seeds: dict[str, Seed] = {}

    def compose(self) -> ComposeResult:
        from gpt2_adventure.story.seeds.library import list_seeds

        seeds, _broken = list_seeds(self.app.launch.paths)
        chosen = sorted((s for s in seeds if s.mode == self.mode),
                        key=lambda s: (s.genre.lower(), s.title.lower()))
        self.seeds = {s.id: s for s in chosen}
        options: list[Option | None] = []
        if self.mode != "chat":
            options.append(Option(Text("✎ Write your own opening…", style="italic"), id=CUSTOM))
        genre = None
        for seed in chosen:
            if seed.genre != genre:
                genre = seed.genre
                options.append(Option(Text(printable(genre or "other").upper(), style="dim"),
                                      disabled=True))
            options.append(Option(Text("  " + printable(seed.title)), id=seed.id))
        yield Static(HEADINGS.get(self.mode, "Choose a story"), id="heading")
        with Horizontal(id="main"):
            yield OptionList(*options, id="seeds")
            with VerticalScroll(id="preview-box"):
                yield Static(id="preview")
        with Horizontal(id="model-row"):
            yield Static("Model:")
            yield Select(self._model_options(), allow_blank=False, id="model")
        yield Footer()

    def _model_options(self) -> list[tuple[str, str]]:
        from gpt2_adventure.engine.models.store import installed

        launch = self.app.launch
        default = launch.model or launch.settings.model.name or "gpt2"
        options = [(f"{default} (default)", "")]
        for model in installed(launch.paths):
            label = f"{model.name} {model.quant or ''}".strip()
            options.append((label, str(model.path)))
        return options

    def on_mount(self) -> None:
        seeds = self.query_one(OptionList)
        seeds.focus()
        first = next((i for i, o in enumerate(seeds.options) if not o.disabled), None)
        if first is not None:
            seeds.highlighted = first

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        preview = self.query_one("#preview", Static)
        seed = self.seeds.get(event.option.id or "")
        if seed is not None:
            preview.update(preview_text(seed))
        elif event.option.id == CUSTOM:
            preview.update(Text("Write the opening of your own story. GPT-2 continues "
                                "whatever you give it: a vivid scene in the second person "
                                "works best for an adventure."))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        model = self.query_one(Select).value
        launch = self.app.launch
        launch.model = str(model) if model else launch.model
        if event.option.id == CUSTOM:
            self.app.push_screen(EditTurn("Your opening", ""), self._custom)
            return
        seed = self.seeds.get(event.option.id or "")
        if seed is not None:
            self.app.start_seed(seed)

    def _custom(self, text: str | None) -> None:
        from gpt2_adventure.story.seeds.fill import escape

        if not text or not text.strip():
            return
        seed = Seed(id="custom", title="Your story", mode=self.mode,
                    openings=(escape(text.strip()),))
        self.app.start_seed(seed)
