"""OpenSSL's names for the object identifiers that Zeek's x509.log prints, and RFC 5280 usage names.

Zeek formats certificates with OpenSSL, so its users know OpenSSL's spellings: algorithms by their long name
(``i2t_ASN1_OBJECT``: ``rsaEncryption``, ``sha256WithRSAEncryption``, ``id-ecPublicKey``), curves and
distinguished-name attributes by their short name (``prime256v1``; ``CN``, ``street``, ``emailAddress``).
These tables hold those spellings, copied from OpenSSL's ``objects.txt``; an OID missing here is printed in
dotted form, as OpenSSL prints an OID it has no name for.
"""

from __future__ import annotations

from cryptography import x509

#: Long names (OpenSSL ``OBJ_nid2ln``) of public-key and signature algorithms.
ALGORITHM_NAMES: dict[str, str] = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.1.1.3": "md4WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.7": "rsaesOaep",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.3.14.3.2.29": "sha1WithRSA",
    "1.2.840.10040.4.1": "dsaEncryption",
    "1.2.840.10040.4.3": "dsaWithSHA1",
    "2.16.840.1.101.3.4.3.1": "dsa_with_SHA224",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
    "1.2.840.113549.1.3.1": "dhKeyAgreement",
    "1.2.643.2.2.3": "GOST R 34.11-94 with GOST R 34.10-2001",
    "1.2.643.2.2.19": "GOST R 34.10-2001",
    "1.2.156.10197.1.301": "sm2",
    "1.2.156.10197.1.501": "SM2-with-SM3",
    "2.16.840.1.101.3.4.3.17": "ML-DSA-44",
    "2.16.840.1.101.3.4.3.18": "ML-DSA-65",
    "2.16.840.1.101.3.4.3.19": "ML-DSA-87",
}

#: Short names (``OBJ_nid2sn``) of distinguished-name attributes, as ``X509_NAME_print_ex`` prints them.
NAME_ATTRIBUTE_NAMES: dict[str, str] = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.16": "postalAddress",
    "2.5.4.17": "postalCode",
    "2.5.4.18": "postOfficeBox",
    "2.5.4.20": "telephoneNumber",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "1.2.840.113549.1.9.8": "unstructuredAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

#: cryptography's curve names → OpenSSL's group names (``OSSL_PKEY_PARAM_GROUP_NAME``), where they differ.
CURVE_NAMES: dict[str, str] = {
    "secp192r1": "prime192v1",
    "secp256r1": "prime256v1",
}

#: Named curves by OID (RFC 5480 §2.1.1.1, RFC 5639) → (OpenSSL group name, order bits), for keys the lenient
#: DER reader decodes when cryptography refuses the certificate.
CURVE_OIDS: dict[str, tuple[str, int]] = {
    "1.2.840.10045.3.1.1": ("prime192v1", 192),
    "1.3.132.0.33": ("secp224r1", 224),
    "1.2.840.10045.3.1.7": ("prime256v1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}

#: Short names of extended key usages (RFC 5280 §4.2.1.12 and OpenSSL's ``objects.txt``).
EKU_NAMES: dict[str, str] = {
    "2.5.29.37.0": "anyExtendedKeyUsage",
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "1.3.6.1.4.1.311.10.3.3": "msSGC",
    "2.16.840.1.113730.4.1": "nsSGC",
}

#: cryptography's :class:`~cryptography.x509.KeyUsage` attributes, in RFC 5280 §4.2.1.3 bit order, with the
#: RFC's names (``contentCommitment`` was ``nonRepudiation``; OpenSSL prints the latter).
KEY_USAGE_BITS: tuple[tuple[str, str], ...] = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

#: Signature algorithms whose hash is broken for certificate signatures (MD2, MD4, MD5, SHA-1).
WEAK_SIGNATURE_OIDS: frozenset[str] = frozenset(
    {
        "1.2.840.113549.1.1.2",
        "1.2.840.113549.1.1.3",
        "1.2.840.113549.1.1.4",
        "1.2.840.113549.1.1.5",
        "1.3.14.3.2.29",
        "1.2.840.10040.4.3",
        "1.2.840.10045.4.1",
    }
)


def algorithm_name(oid: x509.ObjectIdentifier) -> str:
    """OpenSSL's long name of an algorithm, or the dotted OID."""
    return ALGORITHM_NAMES.get(oid.dotted_string, oid.dotted_string)


def eku_name(oid: x509.ObjectIdentifier) -> str:
    return EKU_NAMES.get(oid.dotted_string, oid.dotted_string)
