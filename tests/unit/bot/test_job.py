"""The Job message contract: round trip, and every kind of poison message."""

import json

import pytest

from bot.job import JOB_VERSION, Job, PoisonMessage, ReplyTo, job_id_of
from bot.review import Proposal, Review, ReviewParam


def make_job(**overrides: object) -> Job:
    fields: dict[str, object] = {
        "job_id": "Ev08ABCDEF",
        "source": "slack",
        "conversation_id": "T0001:C0001:1731000000.000100",
        "user_id": "U0001",
        "text": "how many users signed up each month?",
        "reply_to": ReplyTo(kind="slack", team_id="T0001", channel="C0001",
                            thread_ts="1731000000.000100"),
        "received_at": "2026-11-21T18:00:00Z",
    }
    fields.update(overrides)
    return Job(**fields)  # type: ignore[arg-type]


def body(**overrides: object) -> str:
    data = json.loads(make_job().to_json())
    data.update(overrides)
    return json.dumps(data)


def test_round_trip_keeps_every_field() -> None:
    # GIVEN a job WHEN it goes through its wire format THEN it comes back equal
    job = make_job()
    assert Job.from_json(job.to_json()) == job


def test_wire_format_matches_the_design_contract() -> None:
    data = json.loads(make_job().to_json())
    assert data["version"] == JOB_VERSION == 1
    assert set(data) == {"version", "job_id", "source", "conversation_id", "user_id", "text",
                         "reply_to", "received_at"}
    assert data["reply_to"] == {"kind": "slack", "team_id": "T0001", "channel": "C0001",
                                "thread_ts": "1731000000.000100", "response_url": None}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (body(version=2), "unknown job version 2"),
        (body(version=None), "unknown job version None"),
        (body(text=""), "missing or empty fields: text"),
        (body(job_id=None, user_id=7), "missing or empty fields: job_id, user_id"),
        (body(source="email"), "unknown source 'email'"),
        (body(reply_to={"kind": "fax"}), "reply_to is missing or malformed"),
        (body(reply_to=None), "reply_to is missing or malformed"),
    ],
)
def test_poison_messages_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        Job.from_json(raw)


def test_poison_message_keeps_a_readable_reply_address() -> None:
    # GIVEN a body from a future version that still carries a Slack thread
    with pytest.raises(PoisonMessage) as caught:
        Job.from_json(body(version=99))
    # THEN the worker can still tell the person where they asked
    assert caught.value.reply_to is not None
    assert caught.value.reply_to.channel == "C0001"
    assert caught.value.reply_to.thread_ts == "1731000000.000100"


def test_a_teams_reply_address_has_its_documented_shape_and_round_trips() -> None:
    # GIVEN a job from Teams, as DESIGN.md documents its reply address
    reply_to = {"kind": "teams", "service_url": "https://smba.example/amer/",
                "conversation_id": "19:abc@thread.tacv2", "activity_id": "1731000000000",
                "tenant_id": "tenant-1", "conversation_type": "channel"}
    raw = body(source="teams", reply_to=reply_to)
    # WHEN it is read and written again
    job = Job.from_json(raw)
    # THEN nothing of the address is lost or added
    assert json.loads(job.to_json())["reply_to"] == reply_to
    assert Job.from_json(job.to_json()) == job


def test_an_api_job_carries_only_its_kind() -> None:
    job = make_job(source="api", reply_to=ReplyTo(kind="api"))
    assert json.loads(job.to_json())["reply_to"] == {"kind": "api"}
    # A body written with every Slack field empty, as API jobs once were, still reads.
    old = body(source="api", reply_to={"kind": "api", "team_id": None, "channel": None,
                                       "thread_ts": None, "response_url": None})
    assert Job.from_json(old).reply_to == ReplyTo(kind="api")


def test_a_message_in_the_thread_is_an_address_too_but_never_part_of_the_job() -> None:
    # GIVEN the job's address, and its placeholder message in the same thread
    job = make_job()
    placeholder = job.reply_to.at("1731000000.000200")
    # THEN the placeholder's address keeps the thread and names the message
    assert (placeholder.channel, placeholder.thread_ts) == ("C0001", "1731000000.000100")
    assert ReplyTo.from_dict(placeholder.to_dict()) == placeholder
    # AND the job's wire format is unchanged by it
    assert "message" not in json.loads(job.to_json())["reply_to"]


@pytest.mark.parametrize(
    ("body", "job_id"),
    [
        ('{"version": 99, "job_id": "Ev1"}', "Ev1"),
        ('{"job_id": ""}', None),
        ('{"job_id": 7}', None),
        ("[1]", None),
        ("not json", None),
    ],
)
def test_the_job_id_is_read_from_any_body_that_names_one(body: str, job_id: str | None) -> None:
    assert job_id_of(body) == job_id


def test_a_greeting_job_with_context_and_an_assistant_thread_round_trips() -> None:
    # GIVEN a greeting job for an assistant thread, viewing a channel
    job = make_job(text="", kind="greeting", context={"channel_id": "C0REV", "team_id": "T0001"},
                   reply_to=ReplyTo(kind="slack", team_id="T0001", channel="D0001",
                                    thread_ts="1731000000.000100", surface="assistant"))
    data = json.loads(job.to_json())
    # THEN its kind, context and surface are on the wire, and it comes back equal
    assert (data["kind"], data["context"]["channel_id"]) == ("greeting", "C0REV")
    assert data["reply_to"]["surface"] == "assistant"
    assert Job.from_json(job.to_json()) == job


def test_an_answer_job_keeps_the_original_shape_and_older_bodies_are_answers() -> None:
    data = json.loads(make_job().to_json())
    assert "kind" not in data and "context" not in data and "surface" not in data["reply_to"]
    job = Job.from_json(json.dumps(data))
    assert (job.kind, job.context, job.reply_to.surface) == ("answer", None, None)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"kind": "dance"}, "unknown job kind"),
        ({"kind": "answer", "text": ""}, "text"),
        ({"context": ["C0001"]}, "context must be an object of strings"),
        ({"context": {"channel_id": 7}}, "context must be an object of strings"),
        ({"kind": "verify"}, "verify job: review must be an object"),
        ({"kind": "verify", "review": {"source_job_id": "Ev1", "reviewer": "U1"}},
         "review.proposal is missing"),
        ({"kind": "verify", "review": {"source_job_id": "Ev1", "reviewer": "U1",
                                       "proposal": {"question": "q", "name": "n"}}},
         "proposal.sql"),
        ({"kind": "retire", "review": {"source_job_id": "Ev1", "reviewer": "U1"}},
         "review.entry_id is missing"),
        ({"kind": "verify", "review": {"source_job_id": "Ev1", "reviewer": "U1", "proposal": {
            "question": "q", "name": "n", "sql": "SELECT 1",
            "params": [{"name": "x", "kind": "float", "value": "1"}]}}}, "kind must be one of"),
    ],
)
def test_kinds_and_contexts_that_cannot_be_read_are_poison(
    overrides: dict[str, object], reason: str
) -> None:
    with pytest.raises(PoisonMessage, match=reason) as caught:
        Job.from_json(body(**overrides))
    assert caught.value.reply_to is not None


def test_a_verify_job_carries_the_reviewers_proposal_and_round_trips() -> None:
    # GIVEN a reviewer's proposal with a parameter and paraphrases
    proposal = Proposal(
        question="How many users signed up in Germany?", name="signups_germany",
        sql="SELECT COUNT(*) FROM users WHERE country = 'Germany'",
        paraphrases=("Signups from Germany",),
        params=(ReviewParam(name="country", kind="enum", value="Germany", source="country"),),
        definition="Users whose country is Germany.",
    )
    job = make_job(kind="verify", text="", review=Review("Ev0SOURCE", "U0REV", proposal=proposal))
    data = json.loads(job.to_json())
    # THEN the review is on the wire as plain JSON, and the job comes back equal
    assert data["review"]["proposal"]["params"][0] == {
        "name": "country", "kind": "enum", "value": "Germany", "source": "country"}
    assert Job.from_json(job.to_json()) == job


def test_a_retire_job_names_its_entry_and_answer_jobs_carry_no_review() -> None:
    job = make_job(kind="retire", text="", review=Review("Ev0SOURCE", "U0REV", entry_id="e1"))
    assert Job.from_json(job.to_json()).review == Review("Ev0SOURCE", "U0REV", entry_id="e1")
    assert "review" not in json.loads(make_job().to_json())
    # A review on a kind that takes none is not read.
    assert Job.from_json(body(review={"source_job_id": "x"})).review is None


def test_a_default_proposal_is_the_question_its_name_and_the_last_statement() -> None:
    proposal = Proposal.default("  How many users signed up each month? ",
                                ["SELECT 1", "SELECT month, count(*) FROM users GROUP BY 1"])
    assert proposal.question == "How many users signed up each month?"
    assert proposal.name == "how_many_users_signed_up_each_month"
    assert proposal.sql == "SELECT month, count(*) FROM users GROUP BY 1"
    assert Proposal.from_dict(proposal.to_dict()) == proposal
