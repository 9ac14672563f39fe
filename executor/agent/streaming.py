"""ConverseStream for a turn that may be the final answer: its events assembled into exactly
the response `converse` returns, and its text shown through the request's `Draft` only
when it is safe to.

The hold-back rule (docs/agent.md, "Streamed answers"): a model may write a sentence and
then call a tool in the same turn, and that sentence is not part of the answer. So a
turn's text is held until HOLD_CHARS characters of it have arrived (longer than the
"let me look that up" a model writes before a tool call) or the turn ends without a tool
call (messageStop, stop reason other than tool_use); from then on it passes straight
through. If a toolUse block starts after text was released, or the stream fails, the draft
is told to discard what it showed. A toolUse block before any release ends the turn's
showing: nothing of it reaches the draft.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.delivery import Draft

# Text held back per turn before it is shown (see the module's docstring).
HOLD_CHARS = 200

Event = dict[str, Any]


class TextGate:
    """One streamed turn's text on its way to the draft, under the hold-back rule."""

    def __init__(self, draft: Draft, hold_chars: int = HOLD_CHARS) -> None:
        self._draft = draft
        self._hold_chars = hold_chars
        self._held: list[str] = []
        self._held_chars = 0
        self._released = False
        # Set once the turn turned out to call a tool: nothing more is shown.
        self._closed = False

    @property
    def shown(self) -> bool:
        """Whether any of this turn's text reached the draft."""
        return self._released

    def text(self, delta: str) -> None:
        if self._closed or not delta:
            return
        if self._released:
            self._draft.write(delta)
            return
        self._held.append(delta)
        self._held_chars += len(delta)
        if self._held_chars >= self._hold_chars:
            self._release()

    def tool_use(self) -> None:
        """A tool call: the turn's text is no answer; take back what was shown."""
        self.abandon()
        self._closed = True

    def end(self, stop_reason: str) -> None:
        """The turn ended: without a tool call its held text is the answer's."""
        if stop_reason == "tool_use":
            self.tool_use()
        elif not self._closed:
            self._release()

    def abandon(self) -> None:
        """The turn will not be used (a tool call, or the stream failed)."""
        if self._released:
            self._draft.discard()
        self._held, self._held_chars, self._released = [], 0, False

    def _release(self) -> None:
        self._released = True
        held, self._held = "".join(self._held), []
        if held:
            self._draft.write(held)


def read_stream(events: Iterable[Event], gate: TextGate) -> dict[str, Any]:
    """The stream's events as Converse's response (output.message, stopReason, usage,
    metrics), its text passed through `gate`. An error event raises as botocore raises it
    (an EventStreamError, a ClientError); the caller abandons the gate."""
    blocks: dict[int, dict[str, Any]] = {}
    role = "assistant"
    stop_reason = "end_turn"
    response: dict[str, Any] = {}
    last_text: int | None = None
    for event in events:
        if "messageStart" in event:
            role = event["messageStart"].get("role", role)
        elif "contentBlockStart" in event:
            start = event["contentBlockStart"].get("start") or {}
            index = event["contentBlockStart"]["contentBlockIndex"]
            if "toolUse" in start:
                gate.tool_use()
                blocks[index] = {"toolUse": {**start["toolUse"], "input": ""}}
        elif "contentBlockDelta" in event:
            index = event["contentBlockDelta"]["contentBlockIndex"]
            delta = event["contentBlockDelta"]["delta"]
            if "text" in delta:
                block = blocks.setdefault(index, {"text": ""})
                if not block["text"] and last_text is not None and last_text != index:
                    # Text blocks are joined by a line break in the answer (loop._text).
                    gate.text("\n")
                block["text"] += delta["text"]
                last_text = index
                gate.text(delta["text"])
            elif "toolUse" in delta:
                blocks[index]["toolUse"]["input"] += delta["toolUse"].get("input", "")
            elif "reasoningContent" in delta:
                _add_reasoning(blocks.setdefault(index, {"reasoningContent": {
                    "reasoningText": {"text": ""}}}), delta["reasoningContent"])
        elif "messageStop" in event:
            stop_reason = event["messageStop"]["stopReason"]
            gate.end(stop_reason)
        elif "metadata" in event:
            metadata = event["metadata"]
            response["usage"] = metadata.get("usage", {})
            response["metrics"] = metadata.get("metrics", {})
    content = [_finished(blocks[index]) for index in sorted(blocks)]
    return {"output": {"message": {"role": role, "content": content}},
            "stopReason": stop_reason, **response}


def _finished(block: dict[str, Any]) -> dict[str, Any]:
    if "toolUse" in block:
        raw = block["toolUse"]["input"]
        return {"toolUse": {**block["toolUse"], "input": json.loads(raw) if raw else {}}}
    return block


def _add_reasoning(block: dict[str, Any], delta: dict[str, Any]) -> None:
    reasoning = block["reasoningContent"]["reasoningText"]
    if "text" in delta:
        reasoning["text"] += delta["text"]
    if "signature" in delta:
        reasoning["signature"] = delta["signature"]
