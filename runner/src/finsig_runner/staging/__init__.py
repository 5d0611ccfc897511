"""The staging stack: bring-up from the compose file, waits, checks, fault drill, report,
teardown."""
