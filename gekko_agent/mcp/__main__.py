"""``python -m gekko_agent.mcp serve ...``: the ``gekko mcp`` commands without the root CLI."""

from gekko_agent.cli.mcp import app

if __name__ == "__main__":
    app(prog_name="gekko mcp")
