from gpt2_adventure.cli import main

main()
