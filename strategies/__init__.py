"""Built-in strategies, one module each. Each defines ``Params`` and ``create``; see
:mod:`gekko_agent.agent.strategy`. Drop your own ``NAME.py`` into ``./strategies/`` and name it
in agent.yaml."""
