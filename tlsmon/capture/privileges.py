"""Giving up root after the capture handles are open, as tcpdump's ``-Z`` does.

Opening an interface needs CAP_NET_RAW; nothing after that does: an open packet socket keeps working for an
unprivileged owner. The order matters and is tcpdump's: supplementary groups first (``setgroups`` needs
privilege), then the group id, then the user id, which gives up the right to change the others. The drop is
then checked: a process that can still become root again has not dropped anything.
"""

from __future__ import annotations

import grp
import os
import pwd


class PrivilegeError(Exception):
    """The user or group does not exist, or the process could not switch to them."""


def drop_privileges(user: str | None, group: str | None) -> None:
    """Switch to ``user`` (and its primary group, or ``group`` when given); no-op when both are None."""
    if user is None and group is None:
        return
    uid: int | None = None
    gid: int | None = None
    if user is not None:
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise PrivilegeError(f"no such user {user!r}") from None
        uid, gid = entry.pw_uid, entry.pw_gid
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise PrivilegeError(f"no such group {group!r}") from None
    assert gid is not None
    try:
        os.setgroups([gid])
        os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
    except OSError as exc:
        raise PrivilegeError(f"cannot switch to user {user!r} group {group!r}: {exc.strerror or exc}") from None
    if uid is not None and uid != 0 and _can_regain_root():
        raise PrivilegeError(f"switched to user {user!r} but could still regain root")


def _can_regain_root() -> bool:
    try:
        os.setuid(0)
    except OSError:
        return False
    return True
