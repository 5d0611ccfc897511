"""The `image` stage and the helpers only it uses."""
