"""The trust anchors: Mozilla's root store as the pinned ``certifi`` package ships it.

The roots are whatever ``certifi`` version is installed; that version is written into every Parquet file's
metadata (``certifi_version``) so a result can be traced to its root set. Updating the roots is bumping certifi
(see docs/certificates.md). The store is loaded once per process, on first use.
"""

from __future__ import annotations

import functools
import warnings

import certifi
from cryptography import x509
from cryptography.x509.verification import Store

CERTIFI_VERSION: str = certifi.__version__


@functools.cache
def mozilla_roots() -> tuple[x509.Certificate, ...]:
    """Every certificate of certifi's bundle."""
    with open(certifi.where(), "rb") as pem, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a root or two have a non-positive serial
        return tuple(x509.load_pem_x509_certificates(pem.read()))


@functools.cache
def mozilla_store() -> Store:
    """certifi's roots as a verification store."""
    return Store(list(mozilla_roots()))
