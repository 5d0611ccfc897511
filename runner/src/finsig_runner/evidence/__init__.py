"""Evidence: the validation document, its schema and verdict, SBOMs, provenance, signing of both,
offline verification, the merge of partial runs, and redaction of secrets.

docs/evidence.md explains every file for an auditor.
"""
