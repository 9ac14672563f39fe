"""What databot will not try: requests to change data, and messages that are not questions
about the data. Both get a plain reply at once, with no model and no query.

databot only reads. A request to delete, change or add data is refused in words that say
so, never with "this needs a model" (which would imply a model would do it). Greetings,
thanks and "what can you do" get a short statement of what databot is for.

The patterns look at how a request starts ("delete …", "can you drop …", "please update
…") or at SQL statements that write; a question that merely mentions a change ("how many
users deleted their account?") is a question and goes on to be answered.
"""

from __future__ import annotations

import re
from enum import Enum

# Verbs that ask for data to change, when they lead the request.
_WRITE_VERBS = (
    "delete|drop|remove|truncate|update|insert|alter|create|grant|revoke|modify|change|"
    "edit|set|add|wipe|erase|purge|rename|merge|upsert|overwrite|write|reset|clear|"
    "deactivate|ban|refund|cancel"
)
_POLITE = r"(?:(?:please|pls|kindly|hey|ok|okay|now|just|go ahead and)\s+)*"
_ASKING = r"(?:(?:can|could|would|will) you\s+|i (?:want|need) you to\s+|i'?d like you to\s+)?"
# "change in revenue", "update on signups", "add up revenue": the verb is a noun or a sum.
_NOT_A_NOUN = r"(?!\s+(?:in|on|of|over|between|since|from|up|rate|per|by)\b)"
_WRITE_REQUEST = re.compile(
    rf"^\s*{_POLITE}{_ASKING}{_POLITE}(?:{_WRITE_VERBS})\b{_NOT_A_NOUN}", re.IGNORECASE
)
# SQL that writes, anywhere in the message ("run DELETE FROM users").
_WRITE_SQL = re.compile(
    r"\b(?:delete\s+from|drop\s+(?:table|schema|database|view)|truncate\s+table|"
    r"insert\s+into|update\s+\w+(?:\.\w+)?\s+set|alter\s+table|create\s+(?:table|view|schema)|"
    r"grant\s+\w+\s+on)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|yo|howdy|good (?:morning|afternoon|evening)|thanks|thank you|"
    r"thx|ty|cheers|ok|okay|cool|great|nice|bye|goodbye|who are you|what are you|"
    r"what can you do|what do you do|help|how are you|how does this work|"
    r"what can i ask(?: you)?)\b[\s!.?,:)(]*(?:there|all|team|everyone|folks|databot|bot)?"
    r"[\s!.?:)]*$",
    re.IGNORECASE,
)


class Scope(Enum):
    QUESTION = "question"
    WRITE_REQUEST = "write_request"
    SMALL_TALK = "small_talk"


def classify(text: str) -> Scope:
    """Whether `text` is a question to answer, a request to change data, or small talk."""
    if _WRITE_REQUEST.search(text) or _WRITE_SQL.search(text):
        return Scope.WRITE_REQUEST
    if _GREETING.match(text):
        return Scope.SMALL_TALK
    return Scope.QUESTION


READ_ONLY_REPLY = (
    "databot only reads data: it cannot delete, change or add anything, and its database "
    "access is read-only. Ask a question about the data instead, for example:"
)
SMALL_TALK_REPLY = (
    "Hi! I'm databot: ask me a question about the company's data and I answer in this thread "
    "with the number, the SQL behind it, a table, a chart when one helps and the full "
    "results. I only read data. For example:"
)
