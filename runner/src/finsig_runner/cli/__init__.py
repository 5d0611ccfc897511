"""The face: the command line, its subcommands and what a person sees while a run goes."""
