"""Print the pinned requirements from pyproject.toml, the one place they are written down.

python3 scripts/requirements.py          # runtime dependencies
python3 scripts/requirements.py --dev    # plus the [dev] extra (tests, lint, browser driver)
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
if "--dev" in sys.argv[1:]:
    requirements += project.get("optional-dependencies", {}).get("dev", [])
print("\n".join(requirements))
