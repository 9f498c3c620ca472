"""`gpt2-adventure generate` and `gpt2-adventure bench`: the model, without a game around it."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gpt2_adventure.cli.options import (
    BackendKindOpt,
    BackendUrlOpt,
    JsonOpt,
    ModelOpt,
    ThreadsOpt,
)
from gpt2_adventure.errors import UserError
from gpt2_adventure.units import count

if TYPE_CHECKING:
    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.backend import Backend

def with_backend_flags(settings: Settings, url: str | None, kind: str | None) -> Settings:
    """The settings with --backend-url/--backend-kind applied (checked like config values)."""
    from gpt2_adventure.engine.remote.settings import BACKEND_KINDS

    if kind is not None and kind not in BACKEND_KINDS:
        raise UserError(f"--backend-kind must be openai, kobold or local, got {kind!r}",
                        "command line")
    if not url and not kind:
        return settings
    from dataclasses import replace

    from gpt2_adventure.engine.loader import choose_server

    server = choose_server(settings.backend, url, BACKEND_KINDS.get(kind or ""))
    return replace(settings, backend=server)


def generate_command(
    prompt: Annotated[str, typer.Argument(help="Text for GPT-2 to continue ('-' reads stdin).")],
    model: ModelOpt = None,
    max_tokens: Annotated[Optional[int], typer.Option(min=1, help="Tokens to write.")] = None,  # noqa: UP045
    seed: Annotated[Optional[int], typer.Option(help="Fix the random seed.")] = None,  # noqa: UP045
    threads: ThreadsOpt = None,
    ignore_eos: Annotated[bool, typer.Option(
        "--ignore-eos", help="Keep going past the end-of-text token.")] = False,
    preset: Annotated[Optional[str], typer.Option(help="Sampling preset.")] = None,  # noqa: UP045
    temperature: Annotated[Optional[float], typer.Option(min=0.0)] = None,  # noqa: UP045
    top_k: Annotated[Optional[int], typer.Option(min=0)] = None,  # noqa: UP045
    top_p: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,  # noqa: UP045
    min_p: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,  # noqa: UP045
    typical_p: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,  # noqa: UP045
    repeat_penalty: Annotated[Optional[float], typer.Option(min=0.0)] = None,  # noqa: UP045
    repeat_last_n: Annotated[Optional[int], typer.Option(min=0)] = None,  # noqa: UP045
    frequency_penalty: Annotated[Optional[float], typer.Option()] = None,  # noqa: UP045
    presence_penalty: Annotated[Optional[float], typer.Option()] = None,  # noqa: UP045
    mirostat: Annotated[Optional[int], typer.Option(min=0, max=2)] = None,  # noqa: UP045
    dry_multiplier: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="DRY against repeats; 0 = off.")] = None,
    xtc_probability: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="XTC: how often to drop the likeliest tokens; 0 = off.")] = None,
    top_n_sigma: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="Keep tokens within n standard deviations of the top one; 0 = off.")] = None,
    stop: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        help="Stop at this text (repeatable).")] = None,
    ban: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        help="Never write this word (repeatable): a word that is one GPT-2 token; a "
             "longer one is refused.")] = None,
    backend_url: BackendUrlOpt = None,
    backend_kind: BackendKindOpt = None,
) -> None:
    """Continue PROMPT with GPT-2, streaming to stdout."""
    from gpt2_adventure.cli.config import load_cli_settings
    from gpt2_adventure.engine.loader import load_backend
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.engine.sampling import preset as named_preset
    from gpt2_adventure.launch import player_sampling
    from gpt2_adventure.safe_text import printable

    paths, settings = load_cli_settings()
    settings = with_backend_flags(settings, backend_url, backend_kind)

    def with_flags(base: Sampling) -> Sampling:
        try:
            return base.with_changes(
                max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                min_p=min_p, typical_p=typical_p, repeat_penalty=repeat_penalty,
                repeat_last_n=repeat_last_n, frequency_penalty=frequency_penalty,
                presence_penalty=presence_penalty, mirostat=mirostat,
                dry_multiplier=dry_multiplier, xtc_probability=xtc_probability,
                top_n_sigma=top_n_sigma,
                ignore_eos=ignore_eos or None, banned_strings=tuple(ban) if ban else None)
        except ValueError as exc:
            raise UserError(str(exc), "command line") from None

    try:
        base = named_preset(preset) if preset else settings.sampling
    except ValueError as exc:
        raise UserError(str(exc), "command line") from None
    sampling = with_flags(base)  # checked before the model loads
    text = sys.stdin.read() if prompt == "-" else prompt
    backend = load_backend(paths, settings.model, settings.backend, model=model,
                           threads=threads, seed=seed)
    if ban:
        _check_bans(ban, backend)
    if preset is None:  # the model's own preset (aidungeon2), unless the settings chose one
        sampling = with_flags(player_sampling(settings, paths, backend).sampling)
    tokens = backend.tokenize(text)
    room = backend.n_ctx - min(sampling.max_tokens, backend.n_ctx // 2)
    if len(tokens) > room:
        # Keep the end of the prompt: it is what the continuation follows from.
        print(f"note: the prompt is {len(tokens)} tokens; keeping the last {room} so the "
              f"reply fits the model's {backend.n_ctx}-token context", file=sys.stderr)
        tokens = tokens[-room:]
    out = sys.stdout
    for piece in backend.stream(tokens, sampling, stop=stop or ()):
        out.write(printable(piece))
        out.flush()
    out.write("\n")
    backend.close()


def _check_bans(ban: list[str], backend: Backend) -> None:
    """Refuse a --ban a bias cannot ban (closing the backend); KoboldCpp bans whole strings
    itself, so a server speaking the KoboldAI API takes any."""
    from gpt2_adventure.engine.remote.kobold import KoboldBackend
    from gpt2_adventure.engine.sampling import unbannable

    if isinstance(backend, KoboldBackend):
        return
    for text, n_tokens in unbannable(ban, backend.tokenize):
        backend.close()
        raise UserError(f"--ban {text!r} is {n_tokens} GPT-2 tokens; only a word that is one "
                        "token (alone or after a space) can be banned", "command line",
                        hint="ban a shorter word, or leave this one out")


def bench_command(
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    tune: Annotated[bool, typer.Option(
        "--tune", help="Measure the fastest speed settings for this model on this machine "
                       "and keep them (the game then uses them).")] = False,
    prompt_tokens: Annotated[Optional[int], typer.Option(  # noqa: UP045
        min=8, max=1000, help="Prompt tokens to evaluate [default: 512].")] = None,
    gen_tokens: Annotated[Optional[int], typer.Option(  # noqa: UP045
        min=8, max=512, help="Tokens to write [default: 128; --tune: 32].")] = None,
    repeats: Annotated[Optional[int], typer.Option(  # noqa: UP045
        min=1, max=20, help="Rounds; the median counts [default: 3].")] = None,
    as_json: JsonOpt = False,
    quality: Annotated[bool, typer.Option(
        "--quality", help="Play the bundled stories at each sampling preset with scripted "
                          "actions and compare how the replies repeat, loop and follow "
                          "the player.")] = False,
    presets: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="--quality: the presets to compare, e.g. default,dry [default: all].")] = None,
    stories: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="--quality: the stories to play, e.g. knight,noir [default: every bundled "
             "one].")] = None,
    turns: Annotated[int, typer.Option(
        min=1, max=100, help="--quality: turns per story.")] = 5,
) -> None:
    """Measure load time, prompt tokens/s and generated tokens/s of a model, and show which
    speed settings it ran with (yours, tuned or default). With --tune, measure those
    settings instead and keep the fastest for this model. With --quality, compare the
    sampling presets' stories instead."""
    from gpt2_adventure.cli.config import load_cli_settings

    paths, settings = load_cli_settings()
    if quality:
        if tune:
            raise UserError("--quality and --tune are two different runs; give one",
                            "command line")
        from gpt2_adventure.cli.quality_report import quality_and_report

        quality_and_report(paths, settings, model=model, threads=threads, presets=presets,
                           stories=stories, turns=turns, as_json=as_json)
        return
    if tune:
        if threads is not None:
            raise UserError("--tune measures the thread count itself; leave out --threads",
                            "command line")
        from gpt2_adventure.cli.tune_report import tune_and_report

        tune_and_report(paths, settings, model=model, prompt_tokens=prompt_tokens,
                        gen_tokens=gen_tokens, repeats=repeats, as_json=as_json)
        return
    from gpt2_adventure.engine.bench import run_bench

    result = run_bench(paths, settings.model, model=model, threads=threads,
                       prompt_tokens=prompt_tokens or 512, gen_tokens=gen_tokens or 128,
                       repeats=repeats or 3)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from gpt2_adventure.cli.tune_report import speed_rows

    table = Table(title=f"{result['model']} ({result['quantization']}, "
                        f"{count(result['threads'], 'thread')})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("load time", f"{result['load_seconds']:.2f} s")
    table.add_row(f"prompt ({result['prompt_tokens']} tokens)",
                  f"{result['prompt_tok_s']:.1f} tok/s")
    table.add_row(f"generation ({result['gen_tokens']} tokens)",
                  f"{result['gen_tok_s']:.1f} tok/s")
    for label, value in speed_rows(result["settings"]):
        table.add_row(label, value)
    Console().print(table)
