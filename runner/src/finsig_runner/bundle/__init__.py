"""The isolated-site bundle: every image in one tar, a manifest, a DSSE-signed statement beside it.

Layout of a bundle file OUT (an uncompressed tar, GNU format so one 512-byte header holds any size):

    images.tar      one `docker save` of all the images together (shared layers appear once)
    manifest.json   images (ref, id), sha256/size/type of every member of images.tar, versions,
                    creation time (UTC), the runner version that made it

and beside it OUT.dsse: a DSSE envelope (finsig_runner.core.signing) over an in-toto Statement whose
subject is OUT's whole-file sha256 and whose predicate holds manifest.json's sha256. Checks, in
order, all streaming: signature -> whole-file sha256 -> manifest sha256 -> images.tar sha256 ->
every member of images.tar. Nothing is loaded until all pass.
"""

from finsig_runner.bundle.errors import BundleError, BundleVerificationError, EngineError
from finsig_runner.bundle.errors import MissingImageError
from finsig_runner.bundle.export import ExportResult, export_bundle
from finsig_runner.bundle.images import default_image_refs, resolve_images
from finsig_runner.bundle.load import ImportResult, import_bundle
from finsig_runner.bundle.manifest import Manifest, Statement
from finsig_runner.bundle.verify import CheckLine, VerifiedBundle, verify_bundle

__all__ = [
    "BundleError",
    "BundleVerificationError",
    "CheckLine",
    "EngineError",
    "ExportResult",
    "ImportResult",
    "Manifest",
    "MissingImageError",
    "Statement",
    "VerifiedBundle",
    "default_image_refs",
    "export_bundle",
    "import_bundle",
    "resolve_images",
    "verify_bundle",
]
