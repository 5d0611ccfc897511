"""The `security` stage and the helpers only it uses."""
