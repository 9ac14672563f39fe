"""What a Teams activity says, read without any network call: its kind, where it came from,
the question in it, a card's action, and the Job it becomes.

Pure functions of the activity's JSON, so each kind is tested on its own. The card action
data format is defined here, for the front door that reads it and the card builder that
writes it: every Adaptive Card action's `data` is a `CardAction.data()` object, sent by an
Action.Execute whose `verb` is the same action name (an `adaptiveCard/action` invoke), or by
an Action.Submit (a message activity whose `value` is the data).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.feedback import DOWN, UP
from bot.job import ANSWER, GREETING, Job, ReplyTo, utc_now_iso
from bot.review import Review

# Activity types and the invoke name this front door acts on.
MESSAGE = "message"
INVOKE = "invoke"
INSTALLATION_UPDATE = "installationUpdate"
CONVERSATION_UPDATE = "conversationUpdate"
ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
# conversation.conversationType
PERSONAL = "personal"
GROUP_CHAT = "groupChat"
CHANNEL = "channel"

# Card actions: {"action": FEEDBACK, "job_id": …, "value": UP | DOWN},
# {"action": VERIFY, "job_id": …}, {"action": RETIRE, "job_id": …, "entry_id": …}.
ACTION = "action"
JOB_ID = "job_id"
VALUE = "value"
ENTRY_ID = "entry_id"
FEEDBACK = "feedback"
VERIFY = "verify"
RETIRE = "retire"
CARD_ACTIONS = (FEEDBACK, VERIFY, RETIRE)

# A greeting job's context key for the line to post instead of the welcome (an empty or
# too long question: the front door cannot post, so the worker says how to ask).
NOTICE = "notice"

# Teams marks a mention in the text as <at>name</at>.
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
# A channel thread's root message id, after the channel's id in conversation.id.
THREAD_MARK = ";messageid="


class MalformedActivity(ValueError):
    """A body that is not an activity this front door can read; the message says why."""


@dataclass(frozen=True)
class CardAction:
    """A press of one of the answer card's buttons."""

    action: str
    job_id: str
    value: str | None = None  # FEEDBACK: UP or DOWN
    entry_id: str | None = None  # RETIRE: the verified entry

    def data(self) -> dict[str, str]:
        """The action's `data` on the card (and the Action.Execute's verb is `action`)."""
        data = {ACTION: self.action, JOB_ID: self.job_id}
        if self.value is not None:
            data[VALUE] = self.value
        if self.entry_id is not None:
            data[ENTRY_ID] = self.entry_id
        return data

    @classmethod
    def from_data(cls, data: Any, verb: str | None = None) -> CardAction:
        if not isinstance(data, Mapping):
            raise MalformedActivity("the card action's data is not an object")
        action = verb or data.get(ACTION)
        job_id, value, entry_id = data.get(JOB_ID), data.get(VALUE), data.get(ENTRY_ID)
        if action not in CARD_ACTIONS or not isinstance(job_id, str) or not job_id:
            raise MalformedActivity("the card action names no known action and job")
        if action == FEEDBACK and value not in (UP, DOWN):
            raise MalformedActivity("a feedback action's value is not up or down")
        if action == RETIRE and not (isinstance(entry_id, str) and entry_id):
            raise MalformedActivity("a retire action names no entry")
        return cls(
            action=action,
            job_id=job_id,
            value=value if action == FEEDBACK else None,
            entry_id=entry_id if action == RETIRE else None,
        )


@dataclass(frozen=True)
class Activity:
    """The fields of an activity this front door reads. `user_id` is the sender's Entra
    object id when Teams gives one (stable across chats), else their Teams user id."""

    type: str
    channel_id: str
    service_url: str
    id: str = ""
    conversation_id: str = ""
    conversation_type: str = ""
    tenant_id: str | None = None
    user_id: str = ""
    teams_user_id: str = ""
    bot_id: str = ""
    text: str = ""
    entities: tuple[Mapping[str, Any], ...] = ()
    value: Any = None
    name: str | None = None
    reply_to_id: str | None = None
    action: str | None = None
    members_added: tuple[str, ...] = ()

    @property
    def card_action(self) -> CardAction | None:
        """The card action this activity carries: an Action.Execute invoke, or a message
        whose value is an Action.Submit's data. None for anything else."""
        if self.type == INVOKE and self.name == ADAPTIVE_CARD_ACTION:
            action = self.value.get("action") if isinstance(self.value, Mapping) else None
            if not isinstance(action, Mapping):
                raise MalformedActivity("an adaptiveCard/action invoke carries no action")
            verb = action.get("verb")
            return CardAction.from_data(action.get("data") or {}, verb=verb or None)
        if self.type == MESSAGE and isinstance(self.value, Mapping) and ACTION in self.value:
            return CardAction.from_data(self.value)
        return None

    @property
    def mentions_bot(self) -> bool:
        return any(_mentioned(entity) == self.bot_id for entity in self.entities)

    @property
    def thread_conversation_id(self) -> str:
        """The conversation the replies go to: for a channel, the thread (a new post's own
        id is its thread's root); elsewhere the chat."""
        if self.conversation_type != CHANNEL or THREAD_MARK in self.conversation_id:
            return self.conversation_id
        return f"{self.conversation_id}{THREAD_MARK}{self.id}"

    @property
    def memory_id(self) -> str:
        """The conversation memory's key: one per channel thread or chat, per tenant."""
        return f"teams:{self.tenant_id or ''}:{self.thread_conversation_id}"

    def question(self) -> str:
        """The text without the bot's @mentions (other people's keep their names), HTML
        entities decoded (Teams escapes `<`, `&` and non-breaking spaces), trimmed."""
        text = self.text
        for entity in self.entities:
            mention = entity.get("text")
            if _mentioned(entity) == self.bot_id and isinstance(mention, str) and mention:
                text = text.replace(mention, " ")
        return _SPACES.sub(" ", html.unescape(_AT_TAG.sub("", text))).strip()

    def reply_to(self) -> ReplyTo:
        return ReplyTo(
            kind="teams",
            service_url=self.service_url,
            conversation_id=self.thread_conversation_id,
            activity_id=self.replied_activity_id,
            tenant_id=self.tenant_id,
            conversation_type=self.conversation_type,
        )

    @property
    def replied_activity_id(self) -> str:
        """A card action is answered under the card's message (`replyToId`); anything else
        under itself."""
        from_card = self.type == INVOKE or isinstance(self.value, Mapping)
        return (self.reply_to_id if from_card else None) or self.id

    @property
    def key(self) -> str:
        """The idempotency key and job id of what this activity asks: a redelivery of the
        activity has the same."""
        return job_key(self.conversation_id, self.id)

    def job(self, *, kind: str = ANSWER, text: str = "", review: Review | None = None,
            context: dict[str, str] | None = None, key: str | None = None) -> Job:
        """The Job this activity asks for (its id `key`, else the activity's own)."""
        return Job(
            job_id=key or self.key,
            source="teams",
            conversation_id=self.memory_id,
            user_id=self.user_id,
            text=text,
            reply_to=self.reply_to(),
            received_at=utc_now_iso(),
            kind=kind,
            review=review,
            context=context,
        )

    def greeting(self, notice: str | None = None) -> Job:
        """A greeting job: the welcome, once per chat (an install sends both an
        installationUpdate and a conversationUpdate); or, in reply to this activity, `notice`
        in its place."""
        key = self.key if notice else job_key("greeting", self.thread_conversation_id)
        return self.job(kind=GREETING, key=key, context={NOTICE: notice} if notice else None)

    @property
    def adds_bot_to_personal_chat(self) -> bool:
        """A personal install: the app added, or the bot joining the chat."""
        if self.conversation_type != PERSONAL:
            return False
        if self.type == INSTALLATION_UPDATE:
            return self.action in ("add", "add-upgrade")
        return self.type == CONVERSATION_UPDATE and self.bot_id in self.members_added


def job_key(*parts: str) -> str:
    """A job id and idempotency key from what identifies a delivery. Teams' activity ids are
    unique only within a conversation, so the conversation is part of the key; hashed, the
    id is safe in a results path."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"teams-{digest[:32]}"


def parse_activity(data: Any) -> Activity:
    """The activity in a decoded JSON body. MalformedActivity when it lacks what its kind
    needs: every activity a type, channel and service URL; the kinds acted on also their
    conversation, sender and recipient."""
    if not isinstance(data, Mapping):
        raise MalformedActivity("the body is not a JSON object")
    kind, channel, service_url = (data.get(k) for k in ("type", "channelId", "serviceUrl"))
    if not all(isinstance(v, str) and v for v in (kind, channel, service_url)):
        raise MalformedActivity("type, channelId and serviceUrl must be non-empty strings")
    conversation = _object(data, "conversation")
    tenant = _object(_object(data, "channelData"), "tenant").get("id") or conversation.get(
        "tenantId")
    tenant_id = tenant if isinstance(tenant, str) else None
    if kind not in (MESSAGE, INVOKE, INSTALLATION_UPDATE, CONVERSATION_UPDATE):
        return Activity(type=str(kind), channel_id=str(channel), service_url=str(service_url),
                        tenant_id=tenant_id)
    sender, recipient = _object(data, "from"), _object(data, "recipient")
    activity_id, conversation_id = data.get("id"), conversation.get("id")
    sender_id, bot_id = sender.get("id"), recipient.get("id")
    if not all(isinstance(v, str) and v
               for v in (activity_id, conversation_id, sender_id, bot_id)):
        raise MalformedActivity("id, conversation.id, from.id and recipient.id must be strings")
    entities = data.get("entities") or []
    members = data.get("membersAdded") or []
    if not isinstance(entities, list) or not isinstance(members, list):
        raise MalformedActivity("entities and membersAdded must be lists")
    text, name, aad = data.get("text") or "", data.get("name"), sender.get("aadObjectId")
    if not isinstance(text, str) or not isinstance(name, str | None):
        raise MalformedActivity("text and name must be strings")
    return Activity(
        type=str(kind),
        channel_id=str(channel),
        service_url=str(service_url),
        id=str(activity_id),
        conversation_id=str(conversation_id),
        conversation_type=str(conversation.get("conversationType") or PERSONAL),
        tenant_id=tenant_id,
        user_id=aad if isinstance(aad, str) and aad else str(sender_id),
        teams_user_id=str(sender_id),
        bot_id=str(bot_id),
        text=text,
        entities=tuple(e for e in entities if isinstance(e, Mapping)),
        value=data.get("value"),
        name=name,
        reply_to_id=_text_or_none(data.get("replyToId")),
        action=_text_or_none(data.get("action")),
        members_added=tuple(str(m.get("id")) for m in members if isinstance(m, Mapping)),
    )


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedActivity(f"{name} must be an object")
    return value


def _mentioned(entity: Mapping[str, Any]) -> str | None:
    mentioned = entity.get("mentioned")
    if entity.get("type") != "mention" or not isinstance(mentioned, Mapping):
        return None
    return mentioned.get("id") if isinstance(mentioned.get("id"), str) else None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
