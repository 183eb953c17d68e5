"""The optional C extension and the trained weights in wheels; everything else is in pyproject.toml.

``corpus/_pubmed_expat.c`` reads PubMed XML through the expat inside Python's own pyexpat: it is built
when a C compiler and Python's headers are at hand. Without them the install still succeeds (the
extension is optional) and ``corpus.pubmed_xml`` reads with lxml: the same records, at about half the speed.

The gene tagger's weights live in ``models/``, beside the packages, where ``resistmine train`` writes
them. An editable install reads them there; a wheel carries a copy in ``extractors/models/``, where
``extractors.pipeline`` looks first.
"""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

MODELS = Path("models")


class BuildPyWithModels(build_py):
    """``build_py`` that also copies ``models/`` into the built ``extractors`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads models/ where it is
        for source in sorted(MODELS.rglob("*")):
            if source.is_file():
                target = Path(self.build_lib) / "extractors" / source
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(
    ext_modules=[Extension("corpus._pubmed_expat", ["corpus/_pubmed_expat.c"], optional=True)],
    cmdclass={"build_py": BuildPyWithModels},
)
