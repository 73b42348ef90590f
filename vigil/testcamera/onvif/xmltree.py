"""XML for the ONVIF services and WS-Discovery: namespaces, a small element builder, safe parsing.

Replies are built as trees with `el(...)` so that each message reads like the XML it makes, and
every message declares all our prefixes on its root: ONVIF puts prefixed names in text too
(topics such as `tns1:RuleEngine/CellMotionDetector/Motion`), which only resolve when the prefix
is declared.
"""

from lxml import etree

Element = etree._Element

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "ter": "http://www.onvif.org/ver10/error",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "tns1": "http://www.onvif.org/ver10/topics",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "wsa04": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "dn": "http://www.onvif.org/ver10/network/wsdl",
}

# Bound to its namespace by XML itself, so never declared.
_XML_NS = "http://www.w3.org/XML/1998/namespace"

Child = Element | str | None

# Untrusted input: no DTD entities expanded, nothing fetched, no gigantic trees.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class MalformedXml(ValueError):
    """The bytes are not well-formed XML."""


def qname(name: str) -> str:
    """`tt:Name` → `{http://www.onvif.org/ver10/schema}Name`."""
    prefix, _, local = name.rpartition(":")
    if not prefix:
        return local
    return f"{{{_XML_NS if prefix == 'xml' else NS[prefix]}}}{local}"


def el(name: str, *children: Child, **attributes: str) -> Element:
    """An element `name` (prefixed, e.g. `tt:Width`) with text and/or child elements.

    String children become the element's text; None children are left out, so optional parts
    of a message can be written inline (`el("tt:X", value if known else None)`).
    """
    element = etree.Element(qname(name), {qname(k): v for k, v in attributes.items()})
    for child in children:
        if child is None:
            continue
        if isinstance(child, str):
            element.text = (element.text or "") + child
        else:
            element.append(child)
    return element


def to_bytes(root: Element) -> bytes:
    """Serialise `root` with every prefix of NS declared on it."""
    attributes: dict[str, str] = {str(k): str(v) for k, v in root.attrib.items()}
    declared = etree.Element(root.tag, attributes, nsmap=NS)
    declared.text = root.text
    declared.extend(list(root))
    return etree.tostring(declared, xml_declaration=True, encoding="UTF-8")


def parse(data: bytes) -> Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as err:
        raise MalformedXml(str(err)) from err


def find(element: Element, path: str) -> Element | None:
    """The first match of a prefixed path such as `trt:Configuration/tt:Resolution`."""
    return element.find(path, NS)


def text(element: Element, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def local_name(element: Element) -> str:
    return etree.QName(element).localname
