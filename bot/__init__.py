"""Code that runs inside the Rasa server: NLU components, channels, NLG, handoff."""
