"""Saved games: the versioned JSON format and the store of save files."""
