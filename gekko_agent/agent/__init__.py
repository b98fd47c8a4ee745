"""Brains: the rules brain (strategies + forecasts) and, later, the LLM agent. Both only propose intents."""
