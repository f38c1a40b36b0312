"""Distinguished names as Zeek's x509.log prints them: OpenSSL's ``X509_NAME_print_ex(…, XN_FLAG_RFC2253)``.

That is RFC 4514/2253 order (the last RDN first), ``,`` between RDNs and ``+`` inside a multi-valued one (whose
attributes are also reversed, since OpenSSL reverses the flat entry list), OpenSSL's short attribute names
(``CN``, ``street``, ``emailAddress``; the dotted OID otherwise), and ``ASN1_STRFLGS_RFC2253`` escaping:

- ``, + " \\ < > ;`` get a backslash; so do ``#`` and a space at the start and a space at the end;
- control characters and every byte of a non-ASCII character's UTF-8 encoding become ``\\XX`` (upper-case hex);
- an attribute OpenSSL has no name for is printed ``OID=#hex`` with the DER of its value.

cryptography's own ``rfc4514_string`` differs in names (``STREET``, ``1.2.840.113549.1.9.1=#…``) and escaping,
which is why the format is reimplemented here.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.name import _ASN1Type

from tlsmon.x509.der import RawAttribute, RawName
from tlsmon.x509.oids import NAME_ATTRIBUTE_NAMES

_BACKSLASHED = frozenset(',+"\\<>;')

_ENCODINGS: dict[_ASN1Type, str] = {
    _ASN1Type.UTF8String: "utf-8",
    _ASN1Type.NumericString: "ascii",
    _ASN1Type.PrintableString: "ascii",
    _ASN1Type.T61String: "latin-1",
    _ASN1Type.IA5String: "ascii",
    _ASN1Type.VisibleString: "ascii",
    _ASN1Type.UniversalString: "utf-32-be",
    _ASN1Type.BMPString: "utf-16-be",
}


def format_name(name: x509.Name) -> str:
    """The OpenSSL RFC 2253 rendering of a name ('' for an empty name)."""
    rdns = []
    for rdn in reversed(name.rdns):
        rdns.append("+".join(_attribute(a) for a in reversed(list(rdn))))
    return ",".join(rdns)


def _attribute(attr: x509.NameAttribute[str | bytes]) -> str:
    key = NAME_ATTRIBUTE_NAMES.get(attr.oid.dotted_string)
    if key is None:
        return f"{attr.oid.dotted_string}=#{_der_value(attr).hex().upper()}"
    value = attr.value
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return f"{key}={escape_value(text)}"


def format_raw_name(name: RawName) -> str:
    """The same rendering of a name read by the lenient DER reader (values as sent, whatever their
    character set allows): what OpenSSL prints for certificates cryptography refuses."""
    return ",".join("+".join(_raw_attribute(a) for a in reversed(rdn)) for rdn in reversed(name.rdns))


def _raw_attribute(attr: RawAttribute) -> str:
    key = NAME_ATTRIBUTE_NAMES.get(attr.oid)
    encoding = _TAG_ENCODINGS.get(attr.tag)
    if key is None or encoding is None:  # ASN1_STRFLGS_DUMP_UNKNOWN: a type OpenSSL cannot print as text
        return f"{key or attr.oid}=#{attr.tlv.hex().upper()}"
    try:
        text = attr.value.decode(encoding)
    except UnicodeDecodeError:  # e.g. invalid UTF-8: the bytes, one character each
        text = attr.value.decode("latin-1")
    return f"{key}={escape_value(text)}"


#: Universal string tags → how their bytes become characters (OpenSSL reads the 8-bit ones as Latin-1).
_TAG_ENCODINGS: dict[int, str] = {
    0x0C: "utf-8",  # UTF8String
    0x12: "latin-1",  # NumericString
    0x13: "latin-1",  # PrintableString
    0x14: "latin-1",  # T61String
    0x16: "latin-1",  # IA5String
    0x1A: "latin-1",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}


def escape_value(text: str) -> str:
    """``ASN1_STRFLGS_RFC2253`` escaping of one attribute value."""
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        code = ord(ch)
        if code > 0x7F:
            out.extend(f"\\{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:02X}")
        elif ch in _BACKSLASHED or (i == 0 and ch in "# ") or (i == last and ch == " "):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _der_value(attr: x509.NameAttribute[str | bytes]) -> bytes:
    """The DER TLV of an attribute value, for OpenSSL's ``#hex`` dump of attributes it cannot name."""
    value = attr.value
    asn1_type = attr._type
    if isinstance(value, bytes):
        body = value
    else:
        body = value.encode(_ENCODINGS.get(asn1_type, "utf-8"), "surrogatepass")
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        size = (n.bit_length() + 7) // 8
        length = bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([asn1_type.value]) + length + body
