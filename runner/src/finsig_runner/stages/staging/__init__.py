"""The `staging` stage and the helpers only it uses."""
