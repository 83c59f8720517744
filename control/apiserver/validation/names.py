"""Syntax checks for names, keys, ports and addresses; each returns Kubernetes' messages."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from control.client.selectors import (
    dns1123_subdomain_errors,
    label_value_errors,
    max_len_msg,
    qualified_name_errors,
)
from control.client.wellknown import DNS1035_LABEL_FMT, DNS1123_LABEL_FMT

__all__ = [
    "dns1123_label_errors", "dns1123_subdomain_errors", "dns1035_label_errors", "qualified_name_errors",
    "label_value_errors", "port_name_errors", "port_number_errors", "env_var_name_errors",
    "config_key_errors", "http_header_name_errors", "ip_errors", "cidr_errors", "NameCheck",
]

NameCheck = Callable[[str], list[str]]

ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+"
_RE = {fmt: re.compile(fmt) for fmt in (
    DNS1123_LABEL_FMT, DNS1035_LABEL_FMT, ENV_VAR_NAME_FMT, CONFIG_KEY_FMT, HTTP_HEADER_NAME_FMT)}

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    f"validation is '{DNS1123_LABEL_FMT}')")
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    f"regex used for validation is '{DNS1035_LABEL_FMT}')")
ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or "
    "'.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', "
    f"regex used for validation is '{ENV_VAR_NAME_FMT}')")
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
    f"or 'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY_FMT}')")
HTTP_HEADER_NAME_MSG = (
    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', "
    f"regex used for validation is '{HTTP_HEADER_NAME_FMT}')")
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"


def _matches(fmt: str, value: str) -> bool:
    return _RE[fmt].fullmatch(value) is not None


def dns1123_label_errors(value: str) -> list[str]:
    errors = [max_len_msg(63)] if len(value) > 63 else []
    return errors + ([] if _matches(DNS1123_LABEL_FMT, value) else [DNS1123_LABEL_MSG])


def dns1035_label_errors(value: str) -> list[str]:
    errors = [max_len_msg(63)] if len(value) > 63 else []
    return errors + ([] if _matches(DNS1035_LABEL_FMT, value) else [DNS1035_LABEL_MSG])


def port_name_errors(value: str) -> list[str]:
    """IANA_SVC_NAME: at most 15 characters, a-z0-9 and '-', at least one letter."""
    errors = []
    if len(value) > 15:
        errors.append(max_len_msg(15))
    if not re.fullmatch("[-a-z0-9]+", value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number_errors(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [PORT_RANGE_MSG]


def env_var_name_errors(value: str) -> list[str]:
    return [] if _matches(ENV_VAR_NAME_FMT, value) else [ENV_VAR_NAME_MSG]


def config_key_errors(value: str) -> list[str]:
    errors = [max_len_msg(253)] if len(value) > 253 else []
    if not _matches(CONFIG_KEY_FMT, value):
        errors.append(CONFIG_KEY_MSG)
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def http_header_name_errors(value: str) -> list[str]:
    return [] if _matches(HTTP_HEADER_NAME_FMT, value) else [HTTP_HEADER_NAME_MSG]


def ip_errors(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


def cidr_errors(value: str) -> list[str]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]
    return [] if "/" in value else ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]


def path_no_backsteps_errors(value: str) -> list[str]:
    return ["must not contain '..'"] if ".." in value.split("/") else []


def relative_path_errors(value: str) -> list[str]:
    """A path inside a volume: relative, without '..' elements, not starting with '..'."""
    if value.startswith("/"):
        return ["must be a relative path"]
    errors = path_no_backsteps_errors(value)
    if value.startswith("..") and not errors:
        errors.append("must not start with '..'")
    return errors


def mask_trailing_dash(name: str) -> str:
    """generateName prefixes may end in '-': check them as if a character followed."""
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name
