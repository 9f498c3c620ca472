"""gpt2-adventure: an AI dungeon, story co-writer and chat with GPT-2, in the terminal."""

__version__ = "0.1.0"
