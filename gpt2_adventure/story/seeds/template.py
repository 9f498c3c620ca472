"""The commented seed that ``stories new NAME`` writes: a small playable adventure to edit."""

from __future__ import annotations

TEMPLATE_TITLE_LINE = 'title = "New story"'

TEMPLATE = r'''# A story seed for gpt2-adventure.
# Check it with:  gpt2-adventure stories validate FILE
# Play it with its file name (without .toml) wherever a story name is asked for.
# Every field is described in the stories README (stories/README.md in the source).
#
# Text in """triple quotes""" may span several lines; a \ at the end of a line joins it to the
# next (so long paragraphs can be wrapped). {name} is a blank the player fills in
# at the start (declared under [[placeholders]] below); write {{ and }} for literal braces.

format = 1                # the seed format version: always 1 for now
title = "New story"
genre = "mystery"         # free text, shown in the list
description = "A lighthouse keeper, a storm, and a ship that should not be there."
mode = "adventure"        # "adventure", "story" or "chat"

# One opening is picked at random when a game starts. GPT-2 continues whatever it sees, in
# the same voice, so write the kind of prose you want back and stop at a moment where
# something must happen. Adventure openings speak to the player as "you", present tense.
openings = [
"""
You are {name}, keeper of the Gull Rock light, and you have not seen another living soul \
in nine weeks. Tonight the storm is the worst you can remember. Rain hammers the lantern \
glass, and the whole tower hums each time a wave breaks against the rocks below.

You are trimming the wick when you see it: a ship's lantern, close in, where no ship \
should ever be. It is heading straight for the reef. You grab your oilskin coat and""",
"""
You are {name}, keeper of the Gull Rock light. The supply boat is four days late, the \
radio has been silent since Tuesday, and this morning you found wet footprints on the \
stairs that are not yours. They lead up to the lamp room. You take the iron poker from \
the stove and begin to climb. Halfway up, you hear""",
]

# Pinned facts the model always sees at the top of the prompt. A few short sentences.
memory = """
You are {name}, the keeper of a lonely lighthouse on Gull Rock.
The nearest village, Port Sorrow, is six miles across rough water."""

# A short style tag placed near the end of the prompt. GPT-2 does not follow instructions,
# so describe the writing instead of giving orders.
authors_note = "[Author's note: eerie, lonely, salt and storm, slow-building dread]"

# Blanks the player fills in at the start. Every {placeholder} used in the openings,
# memory, author's note, world info or [chat] must be declared, and every one declared
# must be used.
[[placeholders]]
name = "name"
question = "What is your name, keeper?"
default = "Morwen"

# World info: shown to the model only when one of its keys appears in the recent story.
# Optional: secondary_keys (one of them must appear too), always = true (always shown),
# comment (a note for you; the model never sees it).
[[world]]
keys = ["Port Sorrow", "village"]
content = """
Port Sorrow is a fishing village of slate roofs and closed faces. Its people say the Gull \
Rock light has had four keepers in ten years."""

[[world]]
keys = ["ship", "wreck"]
content = "The Maud Ellen sank on the reef off Gull Rock thirty years ago with all hands."
comment = "The ghost ship, if the story goes that way."

# Suggested sampling for this story: any setting of the [sampling] table of config.toml.
[sampling]
temperature = 0.7
max_tokens = 60

# For mode = "chat" only (remove the # signs and set mode = "chat" above):
# [chat]
# character = "Marta"                  # who the model speaks as
# player = "Traveller"                 # who the player speaks as
# others = []                          # more voices (a forum thread, a party)
# persona = "Marta runs the Drowned Lamb inn. She is blunt, kind and misses nothing."
# example_dialogue = """
# Traveller: Is there a room free?
# Marta: There is, if you don't mind the smell of fish."""
# greeting = "Come in out of the rain, love. What'll it be?"
# alternate_greetings = ["Shut the door, you're letting the cold in."]   # /alt flips them
'''
