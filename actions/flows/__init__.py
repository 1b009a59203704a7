"""One module per guided flow; ``base`` holds what every form shares."""
