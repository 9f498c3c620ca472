"""SillyTavern/TavernAI character cards (.json, .png; V1-V3) turned into chat seeds."""
