"""ONVIF Events service: event properties, pull point subscriptions and their messages.

Topics: motion as `tns1:RuleEngine/CellMotionDetector/Motion` (`IsMotion`) and the digital
inputs as `tns1:Device/Trigger/DigitalInput` (`LogicalState`), both property events: a new
subscriber first gets their current state ("Initialized"), then each change ("Changed").
"""

from collections.abc import Callable, Mapping

from vigil.testcamera.camera import INPUT_TOPIC, MOTION_TOPIC, CameraEvent, SimulatedCamera
from vigil.testcamera.onvif.pullpoint import (
    SUBSCRIPTION_LIMIT,
    PullPoint,
    PullPoints,
    SubscriptionLimitReached,
)
from vigil.testcamera.onvif.service import PULLPOINT_PATH, Operation, service_url
from vigil.testcamera.onvif.soap import SoapFault, invalid_argument, sender_fault
from vigil.testcamera.onvif.xmltree import Element, el, text
from vigil.testcamera.onvif.xsdtime import format_datetime, parse_duration_s, parse_termination

CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
_DIALECTS = (CONCRETE_SET, "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete")
DEFAULT_TERMINATION_S = 60.0
MAX_TERMINATION_S = 3600.0
MAX_PULL_TIMEOUT_S = 60.0

# Topic, then the names and XML Schema types of its source and data items.
_TOPICS = (
    (
        MOTION_TOPIC,
        (
            ("VideoSourceConfigurationToken", "tt:ReferenceToken"),
            ("VideoAnalyticsConfigurationToken", "tt:ReferenceToken"),
            ("Rule", "xs:string"),
        ),
        (("IsMotion", "xs:boolean"),),
    ),
    (INPUT_TOPIC, (("InputToken", "tt:ReferenceToken"),), (("LogicalState", "xs:boolean"),)),
)


class EventsService:
    def __init__(self, camera: SimulatedCamera, pull_points: PullPoints) -> None:
        self._camera = camera
        self._pull_points = pull_points

    def operations(self) -> Mapping[str, Operation]:
        return {
            "GetServiceCapabilities": self.get_service_capabilities,
            "GetEventProperties": self.get_event_properties,
            "CreatePullPointSubscription": self.create_pull_point_subscription,
        }

    def subscription(self, subscription_id: str) -> "PullPointService":
        """The service at a subscription's address; a fault if it ended or never was."""
        pull_point = self._pull_points.get(subscription_id)
        if pull_point is None:
            raise sender_fault(
                "ter:InvalidArgVal/ter:ResourceUnknown", "the subscription does not exist"
            )
        return PullPointService(pull_point, self._pull_points)

    async def get_service_capabilities(self, request: Element) -> Element:
        return el(
            "tev:GetServiceCapabilitiesResponse",
            el(
                "tev:Capabilities",
                WSSubscriptionPolicySupport="false",
                WSPullPointSupport="true",
                WSPausableSubscriptionManagerInterfaceSupport="false",
                MaxPullPoints=str(SUBSCRIPTION_LIMIT),
                PersistentNotificationStorage="false",
            ),
        )

    async def get_event_properties(self, request: Element) -> Element:
        return el(
            "tev:GetEventPropertiesResponse",
            el("tev:TopicNamespaceLocation", "http://www.onvif.org/onvif/ver10/topics/topicns.xml"),
            el("wsnt:FixedTopicSet", "true"),
            el("wstop:TopicSet", *(_topic_tree(*topic) for topic in _TOPICS)),
            *(el("wsnt:TopicExpressionDialect", dialect) for dialect in _DIALECTS),
            el(
                "tev:MessageContentFilterDialect",
                "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter",
            ),
            el(
                "tev:MessageContentSchemaLocation",
                "http://www.onvif.org/onvif/ver10/schema/onvif.xsd",
            ),
        )

    async def create_pull_point_subscription(self, request: Element) -> Element:
        now_s = self._pull_points.now_s()
        termination = text(request, "tev:InitialTerminationTime")
        termination_s = _termination(termination, now_s)
        accepts = _topic_filter(text(request, "tev:Filter/wsnt:TopicExpression"))
        try:
            pull_point = self._pull_points.create(accepts, termination_s)
        except SubscriptionLimitReached as err:
            raise SoapFault(
                "env:Receiver",
                "ter:Action/ter:TooManySubscriptions",
                "the camera has no room for more subscriptions",
                http_status=500,
            ) from err
        address = service_url(self._camera, f"{PULLPOINT_PATH}/{pull_point.id}")
        return el(
            "tev:CreatePullPointSubscriptionResponse",
            el("tev:SubscriptionReference", el("wsa:Address", address)),
            el("wsnt:CurrentTime", format_datetime(now_s)),
            el("wsnt:TerminationTime", format_datetime(pull_point.termination_s)),
        )


class PullPointService:
    """Operations at one subscription's address."""

    def __init__(self, pull_point: PullPoint, pull_points: PullPoints) -> None:
        self._pull_point = pull_point
        self._pull_points = pull_points

    def operations(self) -> Mapping[str, Operation]:
        return {
            "PullMessages": self.pull_messages,
            "Renew": self.renew,
            "Unsubscribe": self.unsubscribe,
            "SetSynchronizationPoint": self.set_synchronization_point,
        }

    async def pull_messages(self, request: Element) -> Element:
        try:
            timeout_s = parse_duration_s(text(request, "tev:Timeout") or "")
            limit = int(text(request, "tev:MessageLimit") or "")
        except ValueError as err:
            raise invalid_argument("PullMessages needs a Timeout and a MessageLimit") from err
        if limit < 1:
            raise invalid_argument("MessageLimit must be at least 1")
        events = await self._pull_point.pull(limit, min(timeout_s, MAX_PULL_TIMEOUT_S))
        now_s = self._pull_points.now_s()
        return el(
            "tev:PullMessagesResponse",
            el("tev:CurrentTime", format_datetime(now_s)),
            el("tev:TerminationTime", format_datetime(self._pull_point.termination_s)),
            *map(notification, events),
        )

    async def renew(self, request: Element) -> Element:
        now_s = self._pull_points.now_s()
        self._pull_point.termination_s = _termination(text(request, "wsnt:TerminationTime"), now_s)
        return el(
            "wsnt:RenewResponse",
            el("wsnt:TerminationTime", format_datetime(self._pull_point.termination_s)),
            el("wsnt:CurrentTime", format_datetime(now_s)),
        )

    async def unsubscribe(self, request: Element) -> Element:
        self._pull_points.remove(self._pull_point.id)
        return el("wsnt:UnsubscribeResponse")

    async def set_synchronization_point(self, request: Element) -> Element:
        self._pull_point.synchronize()
        return el("tev:SetSynchronizationPointResponse")


def notification(event: CameraEvent) -> Element:
    return el(
        "wsnt:NotificationMessage",
        el("wsnt:Topic", event.topic, Dialect=CONCRETE_SET),
        el(
            "wsnt:Message",
            el(
                "tt:Message",
                el("tt:Source", *_items(event.source)),
                el("tt:Data", *_items(event.data)),
                UtcTime=format_datetime(event.time),
                PropertyOperation=event.operation,
            ),
        ),
    )


def _items(items: dict[str, str]) -> list[Element]:
    return [el("tt:SimpleItem", Name=name, Value=value) for name, value in items.items()]


def _topic_tree(
    topic: str, source: tuple[tuple[str, str], ...], data: tuple[tuple[str, str], ...]
) -> Element:
    """`tns1:A/B/C` → <tns1:A><tns1:B><tns1:C wstop:topic="true"> with its message description."""
    levels = topic.removeprefix("tns1:").split("/")

    def descriptions(tag: str, items: tuple[tuple[str, str], ...]) -> Element:
        return el(tag, *(el("tt:SimpleItemDescription", Name=n, Type=t) for n, t in items))

    leaf = el(
        f"tns1:{levels[-1]}",
        el(
            "tt:MessageDescription",
            descriptions("tt:Source", source),
            descriptions("tt:Data", data),
            IsProperty="true",
        ),
        **{"wstop:topic": "true"},
    )
    for level in reversed(levels[:-1]):
        leaf = el(f"tns1:{level}", leaf)
    return leaf


def _topic_filter(expression: str | None) -> Callable[[str], bool]:
    """Which topics a subscription's filter lets through: `a|b` alternatives, `//.` for subtrees.

    Without a filter every topic passes.
    """
    if not expression:
        return lambda _topic: True
    alternatives = [part.strip().removesuffix("//.") for part in expression.split("|")]
    return lambda topic: any(
        topic == prefix or topic.startswith(f"{prefix}/") for prefix in alternatives if prefix
    )


def _termination(value: str | None, now_s: float) -> float:
    if value is None:
        return now_s + DEFAULT_TERMINATION_S
    try:
        termination_s = parse_termination(value, now_s)
    except (ValueError, OverflowError) as err:
        raise invalid_argument(f"{value!r} is neither a duration nor a date and time") from err
    if termination_s <= now_s:
        raise invalid_argument("the termination time has already passed")
    # Clients renew; a subscription asked for years would hold its place for good.
    return min(termination_s, now_s + MAX_TERMINATION_S)
