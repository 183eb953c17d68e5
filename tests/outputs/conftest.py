"""Make ``outputs`` the project's package, not this test folder.

pytest puts ``tests/`` on ``sys.path``, where ``tests/outputs`` would be found first as a namespace
package of the same name; the repository root goes first instead (``pythonpath = ["."]`` in the pytest
settings would do the same for every test folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO):
    sys.path.insert(0, str(REPO))
if "outputs" in sys.modules and getattr(sys.modules["outputs"], "__file__", None) is None:
    del sys.modules["outputs"]
