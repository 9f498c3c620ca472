"""What a reply's prompt cost to evaluate, apart from lore put in view mid-reply."""

from __future__ import annotations

from gpt2_adventure.engine.backend import GenerationStats
from gpt2_adventure.story.session import Session


def prompt_evaluated(session: Session, stats: GenerationStats) -> int:
    """Tokens the reply's first stream evaluated: ``stats`` also count the restarts that
    put a world entry the reply named in view (story/midreply.py), and on a random-weights
    model whether a reply names one depends on what the backend sampled before."""
    restarts = sum(insertion.evaluated for insertion in session.mid_reply.insertions)
    return stats.evaluated_tokens - restarts
