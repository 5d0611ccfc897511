"""One module per stage; each exposes a class implementing finsig_runner.core.model.Stage."""
