"""Where each evidence file lives, relative to a workspace (or a job's directory)."""

from __future__ import annotations

from finsig_runner.core.events import LOG_NAME

DOCUMENT = "artifacts/artifact-validation.json"
SEAL = "artifacts/event-log-seal.json"
LOG = f"artifacts/{LOG_NAME}"
PUBLIC_KEY = "artifacts/finsig-signing.pub"
RESULTS = "reports/stages"  # one <stage>.json per stage: its StageResult.to_json()
# Written after the document (or being written): covered by the seal and the log's tail instead.
INDEX = "reports/index.html"  # the run's page: rendered from the document, so written after it
AFTER_DOCUMENT = (LOG, DOCUMENT, DOCUMENT + ".dsse", SEAL, SEAL + ".dsse",
                  f"{RESULTS}/validate.json", INDEX)
