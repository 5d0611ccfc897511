"""Reproducible images and OCI layouts, from files and streams (no Docker SDK here).

- normalise: a `docker save` archive rewritten so that two builds of one recipe give the same
  bytes and the same image ID (finsig_runner.oci.normalise);
- layout: an OCI image layout written from a docker-archive, and verified when read back
  (finsig_runner.oci.layout, finsig_runner.oci.layout_read);
- diff: what differs between two images — config fields, the first differing layer and the
  files in it (finsig_runner.oci.diff);
- pyc: the timestamp-based pyc files that show a build did not set SOURCE_DATE_EPOCH
  (finsig_runner.oci.pyc).

Uses the core room only. `python -m finsig_runner.oci --help` is the command-line entry.
"""
