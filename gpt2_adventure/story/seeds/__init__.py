"""Story seeds: TOML files read, checked, filled in and written."""
