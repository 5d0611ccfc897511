"""Engine: plans a run, schedules its stages, records their results. It knows no stage:
the command line hands it the registry.
"""
