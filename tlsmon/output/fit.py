"""Making a value fit its column type: the writer's last line of defence against values from the wire.

Theory of operation. Every column declares an Arrow type, and the stages choose types wide enough for what the
wire can carry (a DHE prime's bit length in uint32, SSLv2's 16-bit session-id length in uint16, certificate
dates in timestamp[us], which holds years 0001-9999). A value that still does not fit — a packet timestamp
past 2262 in a timestamp[ns] column, a pathLenConstraint of 2**80 — must not cost the row, let alone the run.
The writer converts a batch column by column and only when a column fails does it come here (the fast path
pays nothing): :func:`fit_value` turns each value into one the type holds and says whether it changed it.

- Integers are clamped to the type's range (a clamped counter still says "at least this many").
- Timestamps (integers in the column's unit) become null when the column is nullable and are clamped
  otherwise (``ts_start`` must stay ordered against its neighbours).
- Strings that UTF-8 cannot encode get '?' in place of each lone surrogate.
- Lists, maps and structs are fitted element by element.
- Anything else of the wrong kind (a string in an integer column: a bug, not the wire) is :class:`UnfittableError`;
  the writer puts that row in its dead-letter count.

Each changed value is one named anomaly, ``<stage>.value_out_of_range`` or ``<stage>.date_out_of_range`` for
timestamp columns (``stage`` is the column group's :attr:`~tlsmon.columns.ColumnGroup.stage`), appended to the
row's ``anomalies`` column when the table has one and always counted by the writer.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

VALUE_OUT_OF_RANGE = "value_out_of_range"
DATE_OUT_OF_RANGE = "date_out_of_range"


class UnfittableError(ValueError):
    """A value that no clamping or nulling can turn into the column's type."""


def int_range(type_: pa.DataType) -> tuple[int, int]:
    """Smallest and largest value of an integer type, or of the int64 behind a timestamp, date or duration."""
    if pa.types.is_timestamp(type_) or pa.types.is_duration(type_) or pa.types.is_date64(type_):
        return -(2**63), 2**63 - 1
    if pa.types.is_date32(type_):
        return -(2**31), 2**31 - 1
    bits = type_.bit_width
    if pa.types.is_unsigned_integer(type_):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def anomaly_suffix(type_: pa.DataType) -> str:
    """The anomaly name's second part for a value changed in a column of this type."""
    if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        return DATE_OUT_OF_RANGE
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return anomaly_suffix(type_.value_type)
    return VALUE_OUT_OF_RANGE


def fit_value(type_: pa.DataType, value: object, nullable: bool = True) -> tuple[object, bool]:
    """``value`` made to fit ``type_``, and whether it had to change; :class:`UnfittableError` if it cannot."""
    if value is None:
        if not nullable:
            raise UnfittableError("null in a non-nullable column")
        return None, False
    if pa.types.is_integer(type_) or pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        return _fit_int(type_, value, nullable)
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        if not isinstance(value, list | tuple):
            raise UnfittableError(f"{type(value).__name__} in a list column")
        item = type_.value_field
        changed = False
        out: list[object] = []
        for element in value:
            fitted, was = fit_value(item.type, element, item.nullable)
            out.append(fitted)
            changed = changed or was
        return (out if changed else value), changed
    if pa.types.is_map(type_):
        if not isinstance(value, Mapping):
            raise UnfittableError(f"{type(value).__name__} in a map column")
        changed = False
        items: dict[object, object] = {}
        for key, item in value.items():
            items[key], was = fit_value(type_.item_type, item, type_.item_field.nullable)
            changed = changed or was
        return (items if changed else value), changed
    if pa.types.is_struct(type_):
        if not isinstance(value, Mapping):
            raise UnfittableError(f"{type(value).__name__} in a struct column")
        changed = False
        fields: dict[str, object] = dict(value)
        for i in range(type_.num_fields):
            f = type_.field(i)
            fields[f.name], was = fit_value(f.type, value.get(f.name), f.nullable)
            changed = changed or was
        return (fields if changed else value), changed
    if isinstance(value, str) and (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: Parquet strings are UTF-8
            return value.encode("utf-8", "replace").decode("utf-8"), True
        return value, False
    try:
        pa.array([value], type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as exc:
        raise UnfittableError(f"{type(exc).__name__}: {exc}") from None
    return value, False


def _fit_int(type_: pa.DataType, value: object, nullable: bool) -> tuple[object, bool]:
    if isinstance(value, bool) or not isinstance(value, int):
        if pa.types.is_timestamp(type_):
            try:  # datetimes and the like: let Arrow say whether it holds them
                pa.array([value], type=type_)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as exc:
                if nullable:
                    return None, True
                raise UnfittableError(f"{type(exc).__name__}: {exc}") from None
            return value, False
        raise UnfittableError(f"{type(value).__name__} in an integer column")
    low, high = int_range(type_)
    if low <= value <= high:
        return value, False
    if pa.types.is_timestamp(type_) and nullable:
        return None, True
    return (low if value < low else high), True
