"""The offline vulnerability database: advisory data in, safety 3.7.0's schema 2.0.0 out.

`python -m finsig_runner.vulndb build --source PATH --out DIR` (docs/vulndb.md). The security
stage opens the result with `open_database` (metadata, files checked against their recorded
sha256, each finding's aliases); validate reads its source and date with `read_metadata`.
"""

from finsig_runner.vulndb.build import VERSION, BuildRequest, build, converter_version
from finsig_runner.vulndb.errors import VulnDbError, VulnDbUsageError
from finsig_runner.vulndb.metadata import METADATA, Metadata
from finsig_runner.vulndb.model import SCHEMA_VERSION
from finsig_runner.vulndb.reader import Database, open_database, read_metadata
from finsig_runner.vulndb.writer import INSECURE, INSECURE_FULL

__all__ = [
    "INSECURE",
    "INSECURE_FULL",
    "METADATA",
    "SCHEMA_VERSION",
    "VERSION",
    "BuildRequest",
    "Database",
    "Metadata",
    "VulnDbError",
    "VulnDbUsageError",
    "build",
    "converter_version",
    "open_database",
    "read_metadata",
]
