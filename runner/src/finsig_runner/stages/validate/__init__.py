"""The `validate` stage and the helpers only it uses."""
