"""Input and output channels of the Rasa server."""
