"""PBX drivers: one sub-package per PBX family, registered by name.

Drivers never import Django (see :mod:`calltally.drivers.base`), so they can be
used, tested and benchmarked on their own.
"""

from __future__ import annotations

import importlib

from .base import Driver, DriverConfigError, DriverOptions

# Each entry is "<package>:<class>". Adding a driver means adding a folder and
# one line here; nothing else in the project needs to change.
DRIVER_PATHS = (
    "calltally.drivers.cisco_ucm:CiscoUcmDriver",
    "calltally.drivers.asterisk_csv:AsteriskCsvDriver",
    "calltally.drivers.generic_csv:GenericCsvDriver",
    "calltally.drivers.avaya_ipo:AvayaIpoDriver",
    "calltally.drivers.avaya_cm:AvayaCmDriver",
    "calltally.drivers.threecx:ThreeCxDriver",
    "calltally.drivers.asterisk_custom:AsteriskCustomDriver",
    "calltally.drivers.freeswitch_csv:FreeswitchCsvDriver",
    "calltally.drivers.nec_sv:NecSvDriver",
    "calltally.drivers.panasonic:PanasonicDriver",
    "calltally.drivers.mitel:MitelDriver",
    "calltally.drivers.teams:TeamsDriver",
    "calltally.drivers.yeastar:YeastarDriver",
    "calltally.drivers.grandstream:GrandstreamDriver",
    "calltally.drivers.cisco_cme:CiscoCmeDriver",
    "calltally.drivers.alcatel_oxe:AlcatelOxeDriver",
    "calltally.drivers.hipath:HiPathDriver",
)

_registry: dict[str, type[Driver]] | None = None


def registry() -> dict[str, type[Driver]]:
    global _registry
    if _registry is None:
        found: dict[str, type[Driver]] = {}
        for path in DRIVER_PATHS:
            module_name, class_name = path.split(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            found[cls.name] = cls
        _registry = found
    return _registry


def names() -> list[str]:
    return sorted(registry())


def get_driver_class(name: str) -> type[Driver]:
    try:
        return registry()[name]
    except KeyError:
        raise DriverConfigError(
            f"unknown driver {name!r}; `calltally drivers` lists the available ones: "
            + ", ".join(names())
        ) from None


def make_driver(name: str, options: DriverOptions | None = None) -> Driver:
    return get_driver_class(name)(options)


__all__ = [
    "Driver", "DriverConfigError", "DriverOptions", "get_driver_class", "make_driver", "names", "registry",
]
