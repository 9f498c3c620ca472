"""Talking to a model: the backend interface, llama.cpp, and model files.

Never imports textual or the story package.
"""
