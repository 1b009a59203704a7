"""The action server (rasa-sdk): forms, validation and the wallet backend adapter.

Custom actions live in one module per flow; ``rasa run actions`` imports this package.
"""
