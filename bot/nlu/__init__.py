"""Chinese NLU: rule-based entities on spaCy, numerals, time expressions, normalization."""
