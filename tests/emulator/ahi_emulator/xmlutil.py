"""Small helpers for CloudFront's REST-XML."""

import datetime
import random
import re
import string
import xml.etree.ElementTree as ET

NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


class ApiError(Exception):
    """An AWS error to send back in the service's protocol."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def parse(body, root):
    """Parses a request body and returns its root element, namespace removed."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    text = re.sub(r'\sxmlns="[^"]*"', "", text, count=1)
    try:
        element = ET.fromstring(text)
    except ET.ParseError as e:
        raise ApiError("MalformedXML", f"The XML you provided was not well-formed: {e}") from e
    if element.tag != root:
        raise ApiError("MalformedXML", f"expected <{root}>, got <{element.tag}>")
    return element


def text(element, path, default=None):
    found = element.find(path)
    return found.text if found is not None and found.text is not None else default


def items(element, path):
    """Children of `path/Items` (CloudFront's Quantity/Items lists)."""
    found = element.find(path)
    if found is None:
        return []
    inner = found.find("Items")
    return list(inner) if inner is not None else []


def to_string(element):
    return ET.tostring(element, encoding="unicode")


def document(tag, inner):
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="{NS}">{inner}</{tag}>'


def tag(name, value):
    value = "" if value is None else str(value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{name}>{value}</{name}>"


def timestamp(when=None):
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def random_id(prefix="E", length=13, alphabet=string.ascii_uppercase + string.digits):
    return prefix + "".join(random.choice(alphabet) for _ in range(length))


def new_etag():
    return random_id("E", 13)
