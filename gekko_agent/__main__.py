"""``python -m gekko_agent`` runs the ``gekko`` CLI."""

from gekko_agent.cli.main import main

if __name__ == "__main__":
    main()
