"""Core: the model, configuration, context, event log, hashing, errors, redaction and keys.

Everything else builds on these modules; they import nothing above them.
"""
