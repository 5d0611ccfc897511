"""The offline vulnerability database: advisory data in, safety 3.7.0's schema 2.0.0 out.

`python -m finsig_runner.vulndb build --source PATH --out DIR` (docs/vulndb.md). The security
stage reads the result with `read_metadata` (source, date, counts, file hashes) and may map a
finding's id to its aliases with `advisory_aliases`.
"""

from finsig_runner.vulndb.build import VERSION, BuildRequest, build, converter_version
from finsig_runner.vulndb.metadata import METADATA, Metadata, advisory_aliases, read_metadata
from finsig_runner.vulndb.model import SCHEMA_VERSION, VulnDbError, VulnDbUsageError
from finsig_runner.vulndb.writer import INSECURE, INSECURE_FULL

__all__ = [
    "INSECURE",
    "INSECURE_FULL",
    "METADATA",
    "SCHEMA_VERSION",
    "VERSION",
    "BuildRequest",
    "Metadata",
    "VulnDbError",
    "VulnDbUsageError",
    "advisory_aliases",
    "build",
    "converter_version",
    "read_metadata",
]
