"""From command-line choices to an open game: the pieces the TUI and plain mode share."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from gpt2_adventure import schema
from gpt2_adventure.config import MemorySettings, Settings
from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.engine.llama.state_cache import StateCache, model_fingerprint
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game
from gpt2_adventure.game_commands.settings import MEMORY
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.context import ContextBuilder
from gpt2_adventure.story.model import Placeholder, Seed, StoryState
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.recall.recall import Recall
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.session import Session
from gpt2_adventure.units import count

if TYPE_CHECKING:
    from gpt2_adventure.engine.first_use import FirstUse, TuneWatch

DEFAULT_STORY = {"play": "knight", "chat": "tavern-keeper", "write": "fairy-tale"}


@dataclass
class Launch:
    """What the player asked for on the command line."""

    paths: AppPaths
    settings: Settings
    mode: Literal["title", "play", "chat", "write"] = "title"
    story: str | None = None  # seed id or path
    character: Path | None = None  # a character card (chat)
    lorebook: Path | None = None  # world info added to the seed (chat)
    load: str | None = None  # a save name or path
    name: str | None = None  # the player's name, fills {name}
    model: str | None = None
    rng_seed: int | None = None  # --seed: the opening drawn, and the model's sampling
    threads: int | None = None


def session_sampling(base: Sampling, seed_sampling: dict[str, object],
                     fixed: Collection[str] = ()) -> Sampling:
    """The player's settings with the seed's or save's suggestions on top (flags are in
    ``base``), except for the ``fixed`` fields. A suggestion the schema refuses is dropped: a
    bad value in an old save must not stop the game (llama.cpp would refuse it on every
    reply)."""
    usable = {}
    for key, value in seed_sampling.items():
        if key not in fixed:
            with contextlib.suppress(schema.SettingError):
                usable[key] = schema.checked(Sampling, key, value)
    return Sampling.from_dict(usable, base) if usable else base


class StartSampling(NamedTuple):
    """The sampling a game starts from, and the fields a seed's suggestion must leave."""

    sampling: Sampling
    fixed: frozenset[str] = frozenset()


def player_sampling(settings: Settings, paths: AppPaths, backend: Backend) -> StartSampling:
    """The player's sampling; or, when they chose nothing (the default preset and no
    [sampling] value), the preset the model was made for — the AI Dungeon 2 model's card asks
    for its own (temperature 0.4, top_p 0.9, top_k 40). That preset's values then also win
    over a seed's suggestions (the bundled seeds' temperatures suit base GPT-2). How many
    replies to write (``candidates``) says nothing about how to write one: it is kept, and
    setting it is not choosing sampling."""
    from gpt2_adventure.engine.sampling import preset

    info = backend.info
    player = settings.sampling
    chose = dataclasses.replace(player, candidates=Sampling().candidates) != Sampling()
    if settings.preset != "default" or chose or info is None:
        return StartSampling(player)
    name = _model_preset(paths, info.path)
    if name is None:
        return StartSampling(player)
    chosen, default = preset(name), Sampling()
    fixed = frozenset(f.name for f in dataclasses.fields(Sampling)
                      if getattr(chosen, f.name) != getattr(default, f.name))
    return StartSampling(dataclasses.replace(chosen, candidates=player.candidates), fixed)


def _model_preset(paths: AppPaths, model: Path) -> str | None:
    """The sampling preset of the catalog model whose folder holds ``model``, if any."""
    from gpt2_adventure.engine.models import catalog

    folder = model.resolve().parent
    if folder.parent != paths.models_dir.resolve():
        return None
    entry = catalog.find(folder.name)
    return entry.preset if entry is not None else None


def pick_seed(launch: Launch, notes: list[str] | None = None) -> Seed:
    """The seed a new game starts from: a story, or a character card (and a lorebook).
    What reading a card or lorebook left out or warns of is added to ``notes``."""
    from gpt2_adventure.story.seeds.library import find_seed

    told: list[str] = []
    if launch.character is not None:
        from gpt2_adventure.story.cards.files import load_character_report

        seed, told = load_character_report(launch.character)
    else:
        seed = find_seed(launch.paths, launch.story or DEFAULT_STORY.get(launch.mode, "knight"))
    if launch.lorebook is not None:
        from gpt2_adventure.story.cards.to_seed import LINKED_LOREBOOK
        from gpt2_adventure.story.lorebooks.attach import seed_with_lorebook

        seed, attached = seed_with_lorebook(seed, launch.lorebook)  # {{char}}: the character
        told = [n for n in told if not n.startswith(LINKED_LOREBOOK)]
        if attached.added:
            told += [f"lorebook: {line}" for line in (*attached.book.notes,
                                                      *attached.book.dropped)]
        elif attached.skipped:  # e.g. the book a card names is already inside it
            told.append(f"lorebook: its {count(attached.skipped, 'entry', 'entries')} "
                        + ("is" if attached.skipped == 1 else "are") + " already in the story")
    if notes is not None:
        notes += told
    return seed


def start_state(launch: Launch, seed: Seed, ask: Callable[[Placeholder], str]) -> StoryState:
    """A new game from ``seed``; ``ask`` answers the placeholders the name flag does not."""
    values: dict[str, str] = {}
    for placeholder in seed.placeholders:
        if placeholder.name == "name" and launch.name:
            values["name"] = launch.name
        else:
            values[placeholder.name] = ask(placeholder) or placeholder.default
    rng = random.Random(launch.rng_seed)
    return new_state(seed, values, rng, model=launch.model or "")


def load_model(launch: Launch, watch: TuneWatch | None = None,
               tuned: Callable[[FirstUse], None] | None = None) -> Backend:
    """The game's model. A local model file with no tuning stored for this machine and
    llama.cpp is tuned first ([model] auto_tune), ``watch`` following it and ``tuned``
    told what came of it; a skip or a failure opens it on the defaults."""
    from gpt2_adventure.engine.loader import GAME_SEQUENCES, load_backend

    settings = launch.settings
    if watch is not None and settings.model.auto_tune and settings.backend.kind == "local":
        from gpt2_adventure.engine.first_use import tune_first_use, wanted
        from gpt2_adventure.engine.models.store import resolve_model

        path = resolve_model(launch.paths, launch.model or settings.model.name,
                             where=None if launch.model else settings.model.name_from)
        if wanted(launch.paths, settings.model, path):
            result = tune_first_use(launch.paths, settings.model, path,
                                    threads=launch.threads, watch=watch)
            if tuned is not None:
                tuned(result)
    return load_backend(launch.paths, settings.model, settings.backend, model=launch.model,
                        threads=launch.threads, seed=launch.rng_seed, sequences=GAME_SEQUENCES)


def state_cache_for(launch: Launch, backend: Backend) -> StateCache | None:
    """Where this model's stored states live, if the settings allow them."""
    info = backend.info
    model = launch.settings.model
    if not model.save_state or not backend.supports_state or info is None:
        return None
    try:
        fingerprint = model_fingerprint(info.path)
    except OSError:
        return None
    return StateCache(launch.paths.saves_dir / "autosave", fingerprint,
                      max_bytes=model.state_max_mb * 1024 * 1024, root=launch.paths.saves_dir)


def memory_layout(memory: MemorySettings) -> dict[str, object]:
    """The [memory] settings as the prompt layout's (``ContextBuilder``) fields."""
    return {field: getattr(memory, name) for name, field in MEMORY.items()}


def apply_memory(builder: ContextBuilder, memory: MemorySettings) -> None:
    """The [memory] settings on a layout no game uses yet (an open game's: ``configure``)."""
    for name, value in memory_layout(memory).items():
        setattr(builder, name, value)


def context_builder(launch: Launch, backend: Backend) -> ContextBuilder:
    """The prompt layout of an open game, with recall from the whole story: its index lives
    beside the autosaves, one file per game, and ``Game.close`` closes it."""
    builder = ContextBuilder(backend.tokenize, backend.n_ctx,
                             recall=Recall(launch.paths.saves_dir / "autosave",
                                           root=launch.paths.saves_dir))
    apply_memory(builder, launch.settings.memory)
    return builder


def open_game(launch: Launch, backend: Backend, state: StoryState, sampling: Sampling,
              warn: Callable[[str], None] | None = None, fixed: Collection[str] = ()) -> Game:
    """Wrap a state in a session and a game, take its lock, resume warm if possible, and
    autosave it. The state's sampling suggestions apply over ``sampling`` but ``fixed``.
    The story is indexed for recall here (on the caller's thread: a worker in the TUI)."""
    builder = context_builder(launch, backend)
    session = Session(state, backend, session_sampling(sampling, state.sampling, fixed),
                      builder=builder)
    game = Game(session, SaveStore(launch.paths), warn=warn,
                state_cache=state_cache_for(launch, backend)).open()
    if builder.recall is not None and builder.recall_on:
        builder.recall.prepare(state)
        if builder.recall.problem and warn is not None:
            warn(builder.recall.problem)
    game.restore_model_state()
    return game


def load_state(launch: Launch) -> StoryState:
    if launch.load is None:
        raise UserError("nothing to load")
    return SaveStore(launch.paths).load(launch.load)

