"""Reliability drills: standalone programs, outside `make test`, that keep raw JSON results."""
