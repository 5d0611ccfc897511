"""Docker plumbing: the compose subset, the stack, waits, probes, labelled resources, the
run's network and the one address helper.
"""
