"""Codecs for the standard library value types and stategraph's own values.

These are always in the registry. Each rebuilds its value from plain data with a fixed
constructor, so reading them can never run anything but that constructor.
"""

from __future__ import annotations

import ipaddress
import pathlib
import re
import uuid
from collections import deque
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from stategraph.checkpoint.serde._codecs import TypeCodec, codec_for_class
from stategraph.errors import SerializationError

__all__ = ["stdlib_codecs", "stategraph_codecs"]


def _portable_tz(tz: tzinfo | None, moment: datetime | None) -> tzinfo | None:
    # timezone and ZoneInfo are stored as themselves; any other tzinfo (pytz, dateutil) is
    # stored as the fixed offset it has at this moment, which keeps the instant exact.
    if tz is None or type(tz) in (timezone, ZoneInfo):
        return tz
    offset = tz.utcoffset(moment)
    return None if offset is None else timezone(offset)


def _encode_datetime(value: datetime) -> list[Any]:
    return [
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, _portable_tz(value.tzinfo, value), value.fold,
    ]  # fmt: skip


def _decode_datetime(state: list[Any]) -> datetime:
    year, month, day, hour, minute, second, microsecond, tz, fold = state
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tz, fold=fold)


def _encode_time(value: time) -> list[Any]:
    return [
        value.hour, value.minute, value.second, value.microsecond,
        _portable_tz(value.tzinfo, None), value.fold,
    ]  # fmt: skip


def _decode_time(state: list[Any]) -> time:
    hour, minute, second, microsecond, tz, fold = state
    return time(hour, minute, second, microsecond, tzinfo=tz, fold=fold)


def _encode_zoneinfo(value: ZoneInfo) -> str:
    if value.key is None:
        raise SerializationError(
            "Cannot serialize a ZoneInfo built from a file (it has no key). "
            "Fix: use ZoneInfo('Area/City') or a fixed datetime.timezone."
        )
    return value.key


def _encode_timezone(value: timezone) -> list[Any]:
    return list(value.__getinitargs__())  # type: ignore[attr-defined]


def _decode_deque(state: list[Any]) -> deque[Any]:
    return deque(state[0], state[1])


def _simple(
    key: str, cls: type, encode: Any, decode: Any, *, subclasses: bool = False
) -> TypeCodec:
    return TypeCodec(key, cls, encode, decode, accepts_subclasses=subclasses)


def stdlib_codecs() -> list[TypeCodec]:
    codecs = [
        _simple("builtins:set", set, list, set, subclasses=True),
        _simple("builtins:frozenset", frozenset, list, frozenset, subclasses=True),
        _simple("collections:deque", deque, lambda d: [list(d), d.maxlen], _decode_deque),
        # Integers beyond 64 bits; hex because int(str) is length-limited for decimal only.
        _simple("builtins:int", int, lambda n: format(n, "x"), lambda s: int(s, 16)),
        _simple("builtins:complex", complex, lambda c: [c.real, c.imag], lambda s: complex(*s)),
        _simple("datetime:datetime", datetime, _encode_datetime, _decode_datetime, subclasses=True),
        _simple(
            "datetime:date",
            date,
            lambda d: [d.year, d.month, d.day],
            lambda s: date(*s),
            subclasses=True,
        ),
        _simple("datetime:time", time, _encode_time, _decode_time, subclasses=True),
        _simple(
            "datetime:timedelta",
            timedelta,
            lambda d: [d.days, d.seconds, d.microseconds],
            lambda s: timedelta(*s),
            subclasses=True,
        ),  # fmt: skip
        _simple("datetime:timezone", timezone, _encode_timezone, lambda s: timezone(*s)),
        _simple("zoneinfo:ZoneInfo", ZoneInfo, _encode_zoneinfo, ZoneInfo),
        _simple(
            "uuid:UUID", uuid.UUID, lambda u: u.bytes, lambda b: uuid.UUID(bytes=b), subclasses=True
        ),
        _simple("decimal:Decimal", Decimal, str, Decimal, subclasses=True),
        _simple("re:Pattern", re.Pattern, lambda p: [p.pattern, p.flags], lambda s: re.compile(*s)),
    ]
    for path_cls in (
        pathlib.PurePosixPath,
        pathlib.PureWindowsPath,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    ):
        codecs.append(_simple(f"pathlib:{path_cls.__name__}", path_cls, str, path_cls))
    for ip_cls in (
        ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
        ipaddress.IPv6Network, ipaddress.IPv4Interface, ipaddress.IPv6Interface,
    ):  # fmt: skip
        codecs.append(_simple(f"ipaddress:{ip_cls.__name__}", ip_cls, str, ip_cls))
    return codecs


def stategraph_codecs() -> list[TypeCodec]:
    from stategraph import types

    codecs = [
        TypeCodec(
            "stategraph.types:Send",
            types.Send,
            lambda send: (
                [send.node, send.arg]
                if send.timeout is None
                else [send.node, send.arg, send.timeout]
            ),
            lambda state: types.Send(
                state[0], state[1], timeout=state[2] if len(state) > 2 else None
            ),
        )
    ]
    for cls in (
        types.Interrupt, types.Command, types.Overwrite, types.TimeoutPolicy, types.GraphOutput,
        types.PregelTask, types.StateSnapshot, types.StateUpdate, types.RetryPolicy,
    ):  # fmt: skip
        codec = codec_for_class(cls, f"stategraph.types:{cls.__name__}")
        assert codec is not None, cls
        codecs.append(codec)
    return codecs
