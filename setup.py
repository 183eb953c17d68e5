"""The optional C extension; everything else about the package is in pyproject.toml.

``corpus/_pubmed_expat.c`` reads PubMed XML through the expat inside Python's own pyexpat: it is built
when a C compiler and Python's headers are at hand. Without them the install still succeeds (the
extension is optional) and ``corpus.pubmed_xml`` reads with lxml: the same records, at about half the speed.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("corpus._pubmed_expat", ["corpus/_pubmed_expat.c"], optional=True)])
