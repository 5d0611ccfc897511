"""The `tests` stage and the helpers only it uses."""
