"""The `build` stage and the helpers only it uses."""
