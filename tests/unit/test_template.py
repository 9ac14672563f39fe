"""template.yaml: what matters for running databot safely, checked on the resolved stack.

The template is read with cfn-lint's loader (short-form tags become `Ref`, `Fn::Sub`, ...)
and its intrinsic functions are evaluated for concrete parameter values, so the checks
see the ARNs, names and settings CloudFormation would. `make test` also runs cfn-lint and
`sam validate --lint` on the same file.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from cfnlint.decode import decode

from bot.config import Env
from executor.config import EngineConfig
from executor.warehouse.cost import CostLimits
from tests.support.paths import REPO

NO_VALUE = object()
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "databot",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": NO_VALUE,
}
SLACK_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:databot/slack-AbCdEf"
REQUIRED_PARAMETERS = {
    "SlackSecretArn": SLACK_SECRET,
    "WorkerImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/databot-worker:v1",
    "VpcId": "vpc-0abc",
    "PrivateSubnetIds": "subnet-01,subnet-02",
    "WorkerSecurityGroupIds": "sg-01",
    "WarehouseUrl": "redshift://databot@example.redshift.amazonaws.com:5439/dev",
}
EVERYTHING_ON = {
    "SandboxBackend": "lambda",
    "RedshiftSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:databot/rs-XyZ123",
    "RedshiftClusterIdentifier": "analytics",
    "RedshiftWorkgroupArn": "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/abc",
    "EnableUnload": "true",
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:oncall",
    "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "EnableBucketVersioning": "true",
    "AccessLogBucketName": "databot-access-logs",
    "XRayTracer": "Enabled",
    "TeamsAppId": "00000000-0000-4000-8000-00000000b07d",
    "UserDailyBudgetUsd": "2",
    "UserMonthlyBudgetUsd": "25.5",
    "ChannelDailyBudgetUsd": "10",
    "ChannelMonthlyBudgetUsd": "200",
    "MaxQueryCost": "2.5e9",
    "MaxScanRows": "500000000",
}
KMS_KEY = EVERYTHING_ON["KmsKeyArn"]


class Stack:
    """The template with its parameters, conditions and intrinsic functions resolved."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters: dict[str, Any] = {}
        for name, spec in template["Parameters"].items():
            if name not in parameters and "Default" not in spec:
                raise AssertionError(f"parameter {name} needs a value in the test")
            value = str(parameters.get(name, spec.get("Default")))
            if spec["Type"].startswith(("CommaDelimitedList", "List<")):
                self.parameters[name] = [part.strip() for part in value.split(",") if part]
            else:
                self.parameters[name] = value
        self.conditions = {
            name: self._condition(body) for name, body in template["Conditions"].items()
        }
        self.resources = {
            name: self.resolve(resource)
            for name, resource in template["Resources"].items()
            if self.conditions.get(resource.get("Condition", ""), True)
        }
        self.globals = self.resolve(template.get("Globals", {}))

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def properties(self, name: str) -> dict[str, Any]:
        return dict(self.resources[name]["Properties"])

    def _condition(self, body: Any) -> bool:
        ((key, args),) = body.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(arg) for arg in args)
            return bool(left == right)
        if key == "Fn::Not":
            return not self._condition(args[0])
        if key == "Fn::And":
            return all(self._condition(arg) for arg in args)
        if key == "Condition":
            return self._condition(self.template["Conditions"][args])
        raise AssertionError(f"condition function {key} not understood by the test")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, args),) = node.items()
            if key == "Ref":
                return self._ref(args)
            if key == "Fn::GetAtt":
                resource, attribute = args if isinstance(args, list) else args.split(".", 1)
                return f"{resource}.{attribute}"
            if key == "Fn::Sub":
                text, names = (args, {}) if isinstance(args, str) else args
                return self._sub(text, {k: self.resolve(v) for k, v in names.items()})
            if key == "Fn::Join":
                return args[0].join(self.resolve(args[1]))
            if key == "Fn::Split":
                return self.resolve(args[1]).split(args[0])
            if key == "Fn::Select":
                return self.resolve(args[1])[int(args[0])]
            if key == "Fn::If":
                name, yes, no = args
                return self.resolve(yes if self.conditions[name] else no)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        return name  # a resource: its logical id stands for its name or URL

    def _sub(self, text: str, names: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in names:
                return str(names[key])
            if "." in key:
                return key
            return str(self._ref(key))

        return re.sub(r"\$\{([^}!]+)\}", value, text)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    assert loaded is not None
    return dict(loaded)


@pytest.fixture(scope="module")
def defaults(template: dict[str, Any]) -> Stack:
    """Only the required parameters: local sandbox, password-less Redshift, no alarm topic."""
    return Stack(template, REQUIRED_PARAMETERS)


@pytest.fixture(scope="module")
def full(template: dict[str, Any]) -> Stack:
    """Every optional part switched on."""
    return Stack(template, {**REQUIRED_PARAMETERS, **EVERYTHING_ON})


@pytest.fixture(scope="module", params=["defaults", "full"])
def stack(request: pytest.FixtureRequest) -> Stack:
    stack: Stack = request.getfixturevalue(request.param)
    return stack


def statements(stack: Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy (roles) and resource policy in the stack."""
    for name, resource in stack.resources.items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement
        if "PolicyDocument" in props:
            for statement in props["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def container(stack: Stack) -> dict[str, Any]:
    (definition,) = stack.properties("WorkerTaskDefinition")["ContainerDefinitions"]
    return dict(definition)


def container_env(stack: Stack) -> dict[str, str]:
    return {item["Name"]: str(item["Value"]) for item in container(stack)["Environment"]}


# --- queues --------------------------------------------------------------------------------


def test_every_queue_has_a_dead_letter_queue_or_is_one(stack: Stack) -> None:
    queues = stack.of_type("AWS::SQS::Queue")
    dead_letter_targets = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"].removesuffix(".Arn")
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert dead_letter_targets, "no queue has a redrive policy"
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), name
        if name in dead_letter_targets:
            assert props["MessageRetentionPeriod"] == 1209600, "keep dead letters 14 days"
            continue
        assert int(props["RedrivePolicy"]["maxReceiveCount"]) >= 5, name
    assert int(stack.template["Parameters"]["MaxReceiveCount"]["MinValue"]) >= 5


def test_dead_letters_reach_the_notifier(stack: Stack) -> None:
    events = stack.properties("DlqNotifierFunction")["Events"]
    (event,) = events.values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == "JobsDeadLetterQueue.Arn"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_visibility_timeout_outlasts_the_worker_heartbeat(stack: Stack) -> None:
    env = container_env(stack)
    queue = stack.properties("JobsQueue")
    heartbeat = float(env["WORKER_HEARTBEAT_S"])
    assert int(queue["VisibilityTimeout"]) > 2 * heartbeat
    assert float(env["WORKER_VISIBILITY_S"]) > 2 * heartbeat
    dlq = stack.properties("JobsDeadLetterQueue")
    notifier_timeout = stack.properties("DlqNotifierFunction")["Timeout"]
    assert int(dlq["VisibilityTimeout"]) >= 6 * int(notifier_timeout)


# --- IAM -----------------------------------------------------------------------------------


def test_no_allow_statement_grants_a_wildcard_action(stack: Stack) -> None:
    checked = 0
    for name, statement in statements(stack):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            checked += 1
            assert action != "*" and not action.endswith(":*"), f"{name}: {action}"
            assert "*" not in action, f"{name}: {action}"
    assert checked > 20


def test_a_resource_wildcard_only_where_the_action_has_no_resource_scope(stack: Stack) -> None:
    for name, statement in statements(stack):
        if statement["Effect"] == "Allow" and "*" in as_list(statement.get("Resource")):
            assert as_list(statement["Action"]) in (
                ["ecr:GetAuthorizationToken"],
                ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            ), name


def test_bedrock_access_is_the_configured_models_only(stack: Stack) -> None:
    resources = [
        arn
        for name, statement in statements(stack)
        if "bedrock:InvokeModel" in as_list(statement["Action"])
        for arn in as_list(statement["Resource"])
    ]
    assert sorted(resources) == sorted(
        [
            "arn:aws:bedrock:*:*:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
            "arn:aws:bedrock:*:*:inference-profile/us.amazon.nova-pro-v1:0",
            "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
            "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
        ]
    )
    assert container_env(stack)["MODEL_IDS"] == (
        "us.anthropic.claude-sonnet-4-20250514-v1:0,us.amazon.nova-pro-v1:0"
    )


def test_s3_access_is_the_results_prefix_and_the_workers_audit_writes_only(
    stack: Stack,
) -> None:
    audit_writers = []
    for name, statement in statements(stack):
        actions = [a for a in as_list(statement["Action"]) if a.startswith("s3:")]
        if statement["Effect"] != "Allow" or not actions:
            continue
        for arn in as_list(statement["Resource"]):
            if actions in (["s3:ListBucket"], ["s3:GetBucketLocation"]):
                assert arn == "ResultsBucket.Arn", name
            elif arn == "ResultsBucket.Arn/audit/*":
                # The audit trail: new objects only, never read back, changed or listed.
                assert actions == ["s3:PutObject"], f"{name}: {actions} on {arn}"
                audit_writers.append(name)
            else:
                assert arn == "ResultsBucket.Arn/results/*", f"{name}: {actions} on {arn}"
    # The worker's task (answers, reviews and the daily verified check) writes the trail.
    assert audit_writers == ["WorkerTaskRole"]
    listing = [s for _, s in statements(stack) if as_list(s["Action"]) == ["s3:ListBucket"]]
    assert all(s["Condition"]["StringLike"]["s3:prefix"] == "results/*" for s in listing)


def test_queue_and_table_access_names_their_own_resources(stack: Stack) -> None:
    for name, statement in statements(stack):
        services = {a.split(":")[0] for a in as_list(statement["Action"])}
        if services & {"sqs", "dynamodb"} and statement["Effect"] == "Allow":
            for arn in as_list(statement["Resource"]):
                assert arn.removesuffix(".Arn") in stack.resources, f"{name}: {arn}"


def test_redshift_credentials_are_scoped_to_the_cluster_user_and_workgroup(
    full: Stack, defaults: Stack
) -> None:
    granted = {
        action: as_list(statement["Resource"])
        for _, statement in statements(full)
        for action in as_list(statement["Action"])
        if action.startswith("redshift")
    }
    prefix = "arn:aws:redshift:us-east-1:123456789012"
    assert granted == {
        "redshift:GetClusterCredentials": [
            f"{prefix}:dbuser:analytics/databot",
            f"{prefix}:dbname:analytics/dev",
        ],
        "redshift-serverless:GetCredentials": [EVERYTHING_ON["RedshiftWorkgroupArn"]],
    }
    assert not any(
        a.startswith("redshift") for _, s in statements(defaults) for a in as_list(s["Action"])
    )


PER_USER = {
    "RedshiftClusterIdentifier": "analytics",
    "IdentityMode": "per_user",
    "IdentityMap": "email_local:db_@example.com",
    "IdentityDbGroup": "analysts",
}


def test_per_user_identity_credentials_are_scoped_to_the_user_prefix(
    template: dict[str, Any], full: Stack, defaults: Stack,
) -> None:
    per_user = Stack(template, {**REQUIRED_PARAMETERS, **PER_USER})
    granted = [
        (name, as_list(statement["Resource"]))
        for name, statement in statements(per_user)
        if "redshift:GetClusterCredentials" in as_list(statement["Action"])
    ]
    prefix = "arn:aws:redshift:us-east-1:123456789012"
    # the worker's own user, and each asker's under the prefix, on one cluster and database
    assert granted == [
        ("WorkerTaskRole", [f"{prefix}:dbuser:analytics/databot",
                            f"{prefix}:dbname:analytics/dev"]),
        ("WorkerTaskRole", [f"{prefix}:dbuser:analytics/db_*", f"{prefix}:dbname:analytics/dev",
                            f"{prefix}:dbgroup:analytics/analysts"]),
    ]
    env = container_env(per_user)
    assert (env["IDENTITY_MODE"], env["IDENTITY_MAP"], env["IDENTITY_DB_GROUPS"]) == (
        "per_user", "email_local:db_@example.com", "analysts")
    # without the parameter (the default), no per-user grant and one identity for everyone
    for stack in (full, defaults):
        assert container_env(stack)["IDENTITY_MODE"] == "service"
        assert "IDENTITY_MAP" not in container_env(stack)
        assert not any("/db_*" in str(s["Resource"]) for _, s in statements(stack))


def test_per_user_identity_is_refused_without_a_cluster_or_a_map(
    template: dict[str, Any],
) -> None:
    rule = template["Rules"]["PerUserIdentityNeedsAClusterAndAMap"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "IdentityMode"}, "per_user"]}
    checked = {a["Assert"]["Fn::Not"][0]["Fn::Equals"][0]["Ref"] for a in rule["Assertions"]}
    assert checked == {"RedshiftClusterIdentifier", "IdentityMap"}


def test_logs_are_written_only_to_the_roles_own_log_group(stack: Stack) -> None:
    groups = set(stack.of_type("AWS::Logs::LogGroup"))
    for name, statement in statements(stack):
        if any(a.startswith("logs:") for a in as_list(statement["Action"])):
            assert sorted(as_list(statement["Action"])) == [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ], name
            # The LogGroup's Arn attribute ends in ":*" already: nothing may be appended.
            (group,) = as_list(statement["Resource"])
            assert group.removesuffix(".Arn") in groups and group.endswith(".Arn"), name


def test_each_function_has_its_own_role(stack: Stack) -> None:
    functions = stack.of_type("AWS::Serverless::Function")
    roles = [f["Properties"]["Role"] for f in functions.values()]
    assert len(set(roles)) == len(roles) == len(functions)
    for role in roles:
        assert role.removesuffix(".Arn") in stack.of_type("AWS::IAM::Role")


def test_the_sandbox_function_can_only_write_its_logs(full: Stack, defaults: Stack) -> None:
    props = full.properties("PythonSandboxFunction")
    assert "VpcConfig" not in props
    # (with a customer managed key, also the decryption of its own environment)
    logs, kms = full.properties("PythonSandboxRole")["Policies"][::-1]
    (statement,) = logs["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == "PythonSandboxLogGroup.Arn"
    (decrypt,) = kms["PolicyDocument"]["Statement"]
    assert (decrypt["Action"], decrypt["Resource"]) == (["kms:Decrypt"], KMS_KEY)
    assert 512 <= int(props["MemorySize"]) <= 1024 and int(props["Timeout"]) == 30
    assert container_env(full)["SANDBOX_FUNCTION_NAME"] == "PythonSandboxFunction"
    assert "PythonSandboxFunction" not in defaults.resources
    assert container_env(defaults)["SANDBOX_BACKEND"] == "local"


# --- functions -------------------------------------------------------------------------------


def test_every_function_has_timeout_log_retention_and_bounded_concurrency(stack: Stack) -> None:
    functions = stack.of_type("AWS::Serverless::Function")
    assert set(functions) >= {"SlackEventsFunction", "PromptApiFunction", "DlqNotifierFunction"}
    for name, function in functions.items():
        props = {**stack.globals["Function"], **function["Properties"]}
        assert 1 <= int(props["Timeout"]) <= 30, name
        log_group = stack.properties(props["LoggingConfig"]["LogGroup"])
        assert int(log_group["RetentionInDays"]) > 0, name
        sqs_limits = [
            e["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency")
            for e in props.get("Events", {}).values()
            if e["Type"] == "SQS"
        ]
        assert props.get("ReservedConcurrentExecutions") or (sqs_limits and all(sqs_limits)), name
        env = {
            **stack.globals["Function"]["Environment"]["Variables"],
            **props["Environment"]["Variables"],
        }
        for variable in (
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_LOG_LEVEL",
            "POWERTOOLS_METRICS_NAMESPACE",
        ):
            assert env.get(variable), f"{name}: {variable}"


def test_slack_ingress_answers_within_slacks_deadline(stack: Stack) -> None:
    props = stack.properties("SlackEventsFunction")
    # Slack waits 3 s; the timeout bounds a stuck invocation, memory buys cold-start CPU.
    assert int(props["Timeout"]) <= 10 and int(props["MemorySize"]) >= 512


def test_handlers_named_in_the_template_exist(stack: Stack) -> None:
    for name, function in stack.of_type("AWS::Serverless::Function").items():
        handler = function["Properties"].get("Handler")
        if handler is None:  # a container image: its CMD names the handler
            handler = _dockerfile_cmd(function["Metadata"]["Dockerfile"])
        module, function_name = handler.rsplit(".", 1)
        source = REPO / (module.replace(".", "/") + ".py")
        assert source.is_file(), f"{name}: {source} is missing"
        assert re.search(rf"^def {function_name}\(", source.read_text(), re.M), name


def test_routes_slack_open_and_prompt_api_behind_iam(stack: Stack) -> None:
    routes = {}
    for function in stack.of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                p = event["Properties"]
                routes[(p["Method"], p["Path"])] = p.get("Auth", {}).get("Authorizer")
    teams = "TeamsMessagesFunction" in stack.resources  # only with a Teams app id
    assert routes == {
        ("POST", "/slack/events"): None,  # Slack signs its requests; the function verifies
        ("POST", "/prompt"): "AWS_IAM",
        ("GET", "/prompt/{job_id}"): "AWS_IAM",
        # Bot Framework sends a signed token; the function validates it
        **({("POST", "/teams/messages"): None} if teams else {}),
    }
    assert stack.properties("HttpApi")["Auth"]["EnableIamAuthorizer"] is True


def test_environment_names_are_ones_the_code_reads(stack: Stack) -> None:
    sources = "\n".join(
        path.read_text()
        for folder in ("bot", "executor", "handlers")
        for path in (REPO / folder).rglob("*.py")
    )
    names = set(container_env(stack)) | {s["Name"] for s in container(stack)["Secrets"]}
    for function in stack.of_type("AWS::Serverless::Function").values():
        names |= set(function["Properties"]["Environment"]["Variables"])
    # AWS_ENDPOINT_URL is boto3's own (declared on the functions for local invocation).
    for name in sorted(names - {"AWS_REGION", "AWS_ENDPOINT_URL"}):
        if name.startswith("POWERTOOLS_"):
            continue  # read by Powertools itself
        assert f'"{name}"' in sources or f"'{name}'" in sources, f"nothing reads {name}"


# --- local invocation (sam local invoke --env-vars events/env.json) -----------------------------

# What each ingress function reads its settings with (docs/configuration.md).
FUNCTION_SETTINGS = {
    "SlackEventsFunction": ("bot.slack.config:SlackConfig", "bot.ingress.config:IngressConfig",
                            "bot.feedback:FeedbackConfig"),
    "PromptApiFunction": ("bot.ingress.config:IngressConfig",),
    "DlqNotifierFunction": ("bot.job_store:JobsConfig", "bot.delivery:ChannelsConfig"),
    "TeamsMessagesFunction": ("bot.teams.config:TeamsConfig", "bot.ingress.config:IngressConfig",
                              "bot.feedback:FeedbackConfig"),
}
# Read by those configs, but not settings of the function.
NOT_FUNCTION_SETTINGS = {
    # Socket Mode's app-level token: `databot dev` only.
    "SLACK_APP_TOKEN",
    # Whether answers stream into the thread: the worker's delivery only.
    "SLACK_STREAMING",
}
# The notifier only posts a notice: it neither verifies, nor admits, nor queues.
NOT_NOTIFIER_SETTINGS = {
    "SLACK_SIGNING_SECRET", "SLASH_COMMAND", "ALLOWED_TEAM_IDS", "ALLOWED_CHANNEL_IDS",
    "ALLOWED_USER_IDS", "BLOCKED_CHANNEL_IDS", "ALLOW_EXTERNAL_TEAMS", "SLACK_TEAM_ID",
    "JOBS_QUEUE_URL", "TEAMS_OPENID_METADATA_URL", "VERIFIED_REVIEWERS",
}
# The Teams front door needs no credential and sends nothing to the Bot Connector: these are
# the worker's.
NOT_TEAMS_FRONT_DOOR_SETTINGS = {
    "TEAMS_APP_PASSWORD", "TEAMS_SECRET_ARN", "TEAMS_TOKEN_URL", "TEAMS_SERVICE_URL_HOSTS",
}


class ReadNames(Mapping[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_read_by(function: str) -> set[str]:
    from bot.config import Env

    environment = ReadNames()
    for reference in FUNCTION_SETTINGS[function]:
        module, name = reference.split(":")
        getattr(importlib.import_module(module), name).from_env(Env(environment))
    ignored = NOT_FUNCTION_SETTINGS | {
        "DlqNotifierFunction": NOT_NOTIFIER_SETTINGS,
        "TeamsMessagesFunction": NOT_TEAMS_FRONT_DOOR_SETTINGS,
    }.get(function, set())
    return environment.names - ignored


def declared_variables(stack: Stack, function: str) -> dict[str, Any]:
    """What SAM local lets --env-vars set: the variables the template declares."""
    return {
        **stack.globals["Function"]["Environment"]["Variables"],
        **stack.properties(function)["Environment"]["Variables"],
    }


# (On the stack with every option on: the Teams function exists only with a Teams app id.)
@pytest.mark.parametrize("function", sorted(FUNCTION_SETTINGS))
def test_functions_declare_every_setting_they_read(full: Stack, function: str) -> None:
    # GIVEN the settings the function's configs read from the environment
    read = settings_read_by(function)
    assert {"JOBS_TABLE", "JOB_TTL_DAYS"} <= read
    # THEN the template declares each on the function, so `sam local invoke --env-vars` can
    # set it (SAM local overrides only declared variables)
    assert read - set(declared_variables(full, function)) == set()


def test_the_sample_env_file_sets_only_declared_variables(full: Stack) -> None:
    # GIVEN the sample file for `sam local invoke --env-vars events/env.json`
    sample = json.loads((REPO / "events" / "env.json").read_text())
    assert set(sample) == set(FUNCTION_SETTINGS)
    for function, variables in sample.items():
        # THEN every variable it sets is declared on the function it names (else SAM drops it)
        assert set(variables) - set(declared_variables(full, function)) == set(), function
        assert all(isinstance(value, str) for value in variables.values()), function
    # AND the Slack ingress gets credentials without the secret, and local queue and tables
    slack = sample["SlackEventsFunction"]
    assert slack["SLACK_SECRET_ARN"] == "" and slack["SLACK_SIGNING_SECRET"]
    assert slack["JOBS_QUEUE_URL"].startswith(slack["AWS_ENDPOINT_URL"])
    # AND the Teams front door gets an app id and a local key endpoint
    teams = sample["TeamsMessagesFunction"]
    assert teams["TEAMS_APP_ID"] and teams["TEAMS_OPENID_METADATA_URL"].startswith("http://")


def test_credentials_declared_on_functions_are_empty_in_aws(stack: Stack) -> None:
    # Declared for local invocation only: in AWS they come from SLACK_SECRET_ARN.
    for function in stack.of_type("AWS::Serverless::Function"):
        for name, value in declared_variables(stack, function).items():
            if re.search(r"TOKEN|SECRET|PASSWORD", name) and not name.endswith("_ARN"):
                assert value == "", f"{function}: {name}"


# --- state ------------------------------------------------------------------------------------


def test_tables_follow_the_design_contract(stack: Stack) -> None:
    expected = {
        "IdempotencyTable": [("id", "HASH")],
        "JobsTable": [("job_id", "HASH")],
        "ConversationsTable": [("conversation_id", "HASH"), ("turn", "RANGE")],
    }
    for name, keys in expected.items():
        props = stack.properties(name)
        assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == keys
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    jobs = stack.properties("JobsTable")
    assert jobs["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_feedback_table_keeps_one_vote_per_person_per_answer_for_the_ingress(
    stack: Stack,
) -> None:
    props = stack.properties("FeedbackTable")
    assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == [
        ("job_id", "HASH"), ("user_id", "RANGE")]
    assert "TimeToLiveSpecification" not in props  # votes are kept
    assert stack.resources["FeedbackTable"]["DeletionPolicy"] == "Retain"
    variables = stack.properties("SlackEventsFunction")["Environment"]["Variables"]
    assert variables["FEEDBACK_TABLE"] == "FeedbackTable"  # the Ref, resolved
    granted = {
        action
        for name, statement in statements(stack)
        if name.startswith("SlackEventsRole") and "FeedbackTable.Arn" in str(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert granted == {"dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_bucket_blocks_public_access_denies_plain_http_and_expires_results(stack: Stack) -> None:
    bucket = stack.properties("ResultsBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (deny,) = stack.properties("ResultsBucketPolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == ["ResultsBucket.Arn", "ResultsBucket.Arn/*"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-results"]["Prefix"] == "results/"
    assert int(rules["expire-results"]["ExpirationInDays"]) == 30
    assert rules["expire-audit"]["Prefix"] == "audit/"
    assert int(rules["expire-audit"]["ExpirationInDays"]) == 400


def test_secrets_are_referenced_never_held(stack: Stack) -> None:
    for name, spec in stack.template["Parameters"].items():
        if "Secret" in name:
            assert spec.get("Default", "") == "" and "Arn" in name, name
    env = container_env(stack)
    for key, value in env.items():
        assert not re.search(r"TOKEN|SECRET|PASSWORD|xox[bp]-", f"{key}={value}"), key
    secrets = {s["Name"]: s["ValueFrom"] for s in container(stack)["Secrets"]}
    assert secrets["SLACK_BOT_TOKEN"] == f"{SLACK_SECRET}:SLACK_BOT_TOKEN::"


def test_redshift_password_comes_through_ecs_secrets(full: Stack) -> None:
    secrets = {s["Name"]: s["ValueFrom"] for s in container(full)["Secrets"]}
    assert secrets["REDSHIFT_PASSWORD"] == f"{EVERYTHING_ON['RedshiftSecretArn']}:password::"
    (policy,) = [p for p in full.properties("WorkerExecutionRole")["Policies"]
                 if p["PolicyName"] == "worker-execution"]
    readable = [
        s["Resource"]
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert readable == [[SLACK_SECRET, EVERYTHING_ON["RedshiftSecretArn"], "TeamsSecret"]]


def test_teams_comes_with_an_app_id_and_only_the_worker_reads_its_secret(
    full: Stack, defaults: Stack
) -> None:
    teams = {"TeamsMessagesFunction", "TeamsMessagesRole", "TeamsMessagesLogGroup", "TeamsSecret"}
    assert teams <= set(full.resources)
    assert not teams & set(defaults.resources)
    secrets = {s["Name"]: s["ValueFrom"] for s in container(full)["Secrets"]}
    assert secrets["TEAMS_APP_PASSWORD"] == "TeamsSecret:TEAMS_APP_PASSWORD::"
    assert container_env(full)["TEAMS_APP_ID"] == EVERYTHING_ON["TeamsAppId"]
    assert "TEAMS_APP_ID" not in container_env(defaults)
    assert "TEAMS_APP_PASSWORD" not in {s["Name"] for s in container(defaults)["Secrets"]}
    # the front door validates tokens with public keys: it reads no secret
    assert not [s for role, s in statements(full) if role == "TeamsMessagesRole"
                and "secretsmanager:GetSecretValue" in as_list(s["Action"])]


# --- worker service -----------------------------------------------------------------------------


def test_cost_limits_reach_the_worker_only_when_given(full: Stack, defaults: Stack) -> None:
    # GIVEN no limits (the parameters' empty defaults): the worker reads none, asks no plan
    assert {"MAX_QUERY_COST", "MAX_SCAN_ROWS"}.isdisjoint(container_env(defaults))
    # GIVEN limits: the worker reads them as the settings' parser accepts them
    env = container_env(full)
    assert (env["MAX_QUERY_COST"], env["MAX_SCAN_ROWS"]) == ("2.5e9", "500000000")
    assert EngineConfig.from_env(Env(env)).warehouse.cost_limits == CostLimits(
        max_cost=2.5e9, max_scan_rows=500_000_000
    )


@pytest.mark.parametrize(
    ("parameter", "value", "allowed"),
    [("MaxQueryCost", "1000000000", True), ("MaxQueryCost", "2.5e9", True),
     ("MaxQueryCost", "-1", False), ("MaxQueryCost", "lots", False),
     ("MaxScanRows", "50000000", True), ("MaxScanRows", "5e7", False),
     ("MaxScanRows", "-5", False)],
)
def test_cost_limit_parameters_refuse_what_the_worker_would(
    template: dict[str, Any], parameter: str, value: str, allowed: bool
) -> None:
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) == allowed
    assert re.fullmatch(pattern, "")  # empty: no limit


def test_stop_timeout_covers_the_worker_grace_period(stack: Stack) -> None:
    definition = container(stack)
    grace = float(container_env(stack)["WORKER_GRACE_S"])
    assert grace + 10 <= int(definition["StopTimeout"]) <= 120  # Fargate's maximum


def test_container_health_check_probes_the_worker_health_port(stack: Stack) -> None:
    definition = container(stack)
    command = " ".join(definition["HealthCheck"]["Command"])
    port = container_env(stack)["HEALTH_PORT"]
    assert f"http://127.0.0.1:{port}/health" in command
    assert definition["HealthCheck"]["StartPeriod"] >= 30
    assert definition["LogConfiguration"]["LogDriver"] == "awslogs"
    assert definition["LogConfiguration"]["Options"]["awslogs-group"] == "WorkerLogGroup"


def test_service_runs_in_private_subnets_without_public_ips(stack: Stack) -> None:
    network = stack.properties("WorkerService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network == {
        "AssignPublicIp": "DISABLED",
        "Subnets": ["subnet-01", "subnet-02"],
        "SecurityGroups": ["sg-01"],
    }


def test_service_scales_on_backlog_per_running_task(stack: Stack) -> None:
    target = stack.properties("WorkerScalableTarget")
    assert target["ResourceId"] == "service/Cluster/WorkerService.Name"
    assert (int(target["MinCapacity"]), int(target["MaxCapacity"])) == (1, 10)
    policy = stack.properties("WorkerBacklogScalingPolicy")
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["ScalingTargetId"] == "WorkerScalableTarget"
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    visible = metrics["visible"]["MetricStat"]["Metric"]
    assert visible["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert visible["Dimensions"] == [{"Name": "QueueName", "Value": "JobsQueue.QueueName"}]
    assert metrics["tasks"]["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    (returned,) = [m for m in metrics.values() if m["ReturnData"]]
    assert re.fullmatch(r"visible / IF\(tasks > 0, tasks, 1\)", returned["Expression"])
    assert int(config["TargetValue"]) == 8
    settings = stack.properties("Cluster")["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in settings


def test_alarms_watch_dead_letters_ingress_queue_age_and_worker_health(stack: Stack) -> None:
    watched = set()
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        metrics = (
            [props]
            if "MetricName" in props
            else [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
        )
        for metric in metrics:
            dimension = metric["Dimensions"][-1]["Value"]
            watched.add((metric["MetricName"], dimension))
    assert watched >= {
        ("ApproximateNumberOfMessagesVisible", "JobsDeadLetterQueue.QueueName"),
        ("ApproximateAgeOfOldestMessage", "JobsQueue.QueueName"),
        ("Errors", "SlackEventsFunction"),
        ("Errors", "PromptApiFunction"),
        ("Throttles", "SlackEventsFunction"),
        ("RunningTaskCount", "WorkerService.Name"),
    }
    if "TeamsMessagesFunction" in stack.resources:
        assert watched >= {("Errors", "TeamsMessagesFunction"),
                           ("Throttles", "TeamsMessagesFunction")}


def test_alarms_notify_the_topic_when_one_is_given(full: Stack) -> None:
    for name, alarm in full.of_type("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [EVERYTHING_ON["AlarmTopicArn"]], name
        assert alarm["Properties"]["OKActions"] == [EVERYTHING_ON["AlarmTopicArn"]], name


def test_alarms_cover_answer_latency_error_rate_cost_and_stalled_answers(full: Stack) -> None:
    alarms = {name: a["Properties"] for name, a in full.of_type("AWS::CloudWatch::Alarm").items()}
    latency = alarms["AnswerLatencyAlarm"]
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("QueueToAnswer", "p95")
    assert latency["Threshold"] == full.parameters["AnswerP95AlarmSeconds"]
    rate = alarms["JobErrorRateAlarm"]
    assert {m["Id"] for m in rate["Metrics"]} == {"failed", "started", "rate"}
    assert rate["Threshold"] == full.parameters["ErrorRateAlarmPercent"]
    cost = alarms["CostPerHourAlarm"]
    assert (cost["MetricName"], cost["Period"]) == ("AnswerCost", 3600)
    assert cost["Threshold"] == full.parameters["CostPerHourAlarmUsd"]
    stalled = alarms["NoAnswersAlarm"]
    (expression,) = [m["Expression"] for m in stalled["Metrics"] if "Expression" in m]
    assert "asked" in expression and "answered" in expression
    assert stalled["EvaluationPeriods"] == full.parameters["NoAnswerAlarmMinutes"]


def _dashboard_metrics(stack: Stack) -> list[list[Any]]:
    body = json.loads(stack.properties("Dashboard")["DashboardBody"])
    return [
        metric
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], str)
    ]


def test_the_dashboard_shows_what_an_operator_checks(stack: Stack) -> None:
    shown = {(m[0], m[1]) for m in _dashboard_metrics(stack)}
    assert shown >= {
        ("AWS/SQS", "NumberOfMessagesSent"),  # questions per minute
        ("databot", "QueueToFirstReply"),
        ("databot", "QueueToAnswer"),
        ("databot", "AnswersVerified"),
        ("databot", "ModelErrors"),
        ("databot", "ModelFallbacks"),
        ("databot", "AnswerCost"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("databot", "SandboxFailures"),
        ("databot", "VerifiedBroken"),  # the daily verified check
        ("databot", "VerifiedDrifted"),
    }
    queues = {m[3] for m in _dashboard_metrics(stack) if m[0] == "AWS/SQS"}
    assert queues == {"JobsQueue.QueueName", "JobsDeadLetterQueue.QueueName"}


# --- encryption, recovery, scanning -------------------------------------------------------------


def test_a_customer_managed_key_encrypts_everything_that_holds_data(full: Stack) -> None:
    for name, queue in full.of_type("AWS::SQS::Queue").items():
        assert queue["Properties"]["KmsMasterKeyId"] == KMS_KEY, name
        assert "SqsManagedSseEnabled" not in queue["Properties"], name
    for name, table in full.of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"] == {
            "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KMS_KEY
        }, name
    ((rule,),) = [
        full.properties("ResultsBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    ]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY
    }
    for name, group in full.of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"]["KmsKeyId"] == KMS_KEY, name
    assert full.globals["Function"]["KmsKeyArn"] == KMS_KEY


def test_without_a_key_aws_managed_encryption_and_no_kms_permissions(defaults: Stack) -> None:
    for name, queue in defaults.of_type("AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name
    for name, table in defaults.of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}, name
    assert all("KmsKeyId" not in g["Properties"]
               for g in defaults.of_type("AWS::Logs::LogGroup").values())
    assert not [s for _, s in statements(defaults)
                if any(a.startswith("kms:") for a in as_list(s["Action"]))]


def test_roles_get_exactly_the_kms_permissions_they_need(full: Stack) -> None:
    granted: dict[str, set[str]] = {}
    for role, statement in statements(full):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("kms:")}
        if actions:
            assert statement["Resource"] == KMS_KEY, role
            granted.setdefault(role, set()).update(actions)
    producer = {"kms:GenerateDataKey", "kms:Decrypt"}
    assert granted == {
        "SlackEventsRole": producer,
        "PromptApiRole": producer,
        "TeamsMessagesRole": producer,
        "WorkerExecutionRole": {"kms:Decrypt"},  # the TeamsSecret
        "DlqNotifierRole": {"kms:Decrypt"},
        "PythonSandboxRole": {"kms:Decrypt"},
        "WorkerTaskRole": producer,
        "RedshiftUnloadRole": producer,
    }


def test_tables_people_would_miss_have_point_in_time_recovery(stack: Stack) -> None:
    for name in ("JobsTable", "ConversationsTable", "FeedbackTable", "VerifiedTable",
                 "UsageTable"):
        spec = stack.properties(name)["PointInTimeRecoverySpecification"]
        assert spec == {"PointInTimeRecoveryEnabled": True}, name


def test_verified_table_is_keyed_by_entry_and_the_worker_reads_and_writes_it(stack: Stack) -> None:
    table = stack.properties("VerifiedTable")
    assert table["KeySchema"] == [{"AttributeName": "entry_id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "entry_id", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert stack.resources["VerifiedTable"]["DeletionPolicy"] == "Retain"
    assert container_env(stack)["VERIFIED_TABLE"] == "VerifiedTable"
    granted = {
        action
        for name, statement in statements(stack)
        if name == "WorkerTaskRole" and "VerifiedTable.Arn" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert granted == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:Scan"}


def test_usage_table_is_keyed_by_scope_and_the_worker_only_reads_and_adds_to_it(
    stack: Stack,
) -> None:
    # GIVEN the spend ledger's table
    table = stack.properties("UsageTable")
    assert table["KeySchema"] == [{"AttributeName": "scope", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "scope", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"]["SSEEnabled"] is True
    # Daily counters expire; the spend history is kept when the stack goes.
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert stack.resources["UsageTable"]["DeletionPolicy"] == "Retain"
    # THEN the worker is told the table and may read counters and add to them, nothing more
    # (`databot usage` scans it with operator credentials)
    assert container_env(stack)["USAGE_TABLE"] == "UsageTable"
    granted = [
        set(as_list(statement["Action"]))
        for name, statement in statements(stack)
        if "UsageTable.Arn" in as_list(statement.get("Resource", []))
    ]
    assert granted == [{"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}]


def test_spend_limits_are_optional_parameters_passed_to_the_worker(
    template: dict[str, Any], full: Stack,
) -> None:
    names = {"UserDailyBudgetUsd": "USER_DAILY_BUDGET_USD",
             "UserMonthlyBudgetUsd": "USER_MONTHLY_BUDGET_USD",
             "ChannelDailyBudgetUsd": "CHANNEL_DAILY_BUDGET_USD",
             "ChannelMonthlyBudgetUsd": "CHANNEL_MONTHLY_BUDGET_USD"}
    environment = container_env(full)
    for parameter, variable in names.items():
        # Empty by default: no limit.
        assert template["Parameters"][parameter]["Default"] == ""
        pattern = re.compile(template["Parameters"][parameter]["AllowedPattern"])
        assert all(pattern.fullmatch(value) for value in ("", "5", "0.25"))
        assert not any(pattern.fullmatch(value) for value in ("-1", "ten", "1e3"))
        assert environment[variable] == full.parameters[parameter]


def test_the_verified_check_runs_daily_as_a_worker_task(stack: Stack) -> None:
    # GIVEN the schedule
    schedule = stack.properties("VerifiedCheckSchedule")
    target = schedule["Target"]
    # THEN it runs daily, the worker's task definition in its cluster, subnets and groups
    assert schedule["ScheduleExpression"] == stack.parameters["VerifiedCheckCron"]
    assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", schedule["ScheduleExpression"])
    assert schedule["State"] == "ENABLED"
    assert target["Arn"] == "Cluster.Arn"
    ecs = target["EcsParameters"]
    assert (ecs["TaskDefinitionArn"], ecs["LaunchType"], ecs["TaskCount"]) == (
        "WorkerTaskDefinition", "FARGATE", 1)
    network = stack.properties("WorkerService")["NetworkConfiguration"]
    assert ecs["NetworkConfiguration"] == {
        "AwsvpcConfiguration": network["AwsvpcConfiguration"]}
    # AND the image's entry point runs the overriding command: `databot verified check`
    (override,) = json.loads(target["Input"])["containerOverrides"]
    assert override == {"name": container(stack)["Name"], "command": ["verified", "check"]}


def test_the_scheduler_role_may_only_start_the_worker_task(stack: Stack) -> None:
    role = stack.properties("VerifiedCheckSchedulerRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert stack.properties("VerifiedCheckSchedule")["Target"]["RoleArn"] == (
        "VerifiedCheckSchedulerRole.Arn")
    granted = {
        action: statement
        for name, statement in statements(stack)
        if name == "VerifiedCheckSchedulerRole"
        for action in as_list(statement["Action"])
    }
    assert set(granted) == {"ecs:RunTask", "iam:PassRole"}
    run = granted["ecs:RunTask"]
    assert run["Resource"] == "WorkerTaskDefinition"
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": "Cluster.Arn"}}
    passed = granted["iam:PassRole"]
    assert sorted(passed["Resource"]) == ["WorkerExecutionRole.Arn", "WorkerTaskRole.Arn"]
    assert passed["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_the_verified_check_alarm_watches_broken_entries_failed_checks_and_dropped_runs(
    full: Stack,
) -> None:
    alarm = full.properties("VerifiedCheckAlarm")
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    watched = {
        m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]["Dimensions"]
        for m in metrics.values() if "MetricStat" in m
    }
    assert watched == {
        "VerifiedBroken": [{"Name": "service", "Value": "databot-worker"}],
        "VerifiedCheckFailed": [{"Name": "service", "Value": "databot-worker"}],
        "InvocationDroppedCount": [
            {"Name": "ScheduleGroup", "Value": "VerifiedCheckScheduleGroup"}],
    }
    assert full.properties("VerifiedCheckSchedule")["GroupName"] == "VerifiedCheckScheduleGroup"
    (returned,) = [m for m in metrics.values() if m["ReturnData"]]
    for name in ("broken", "failed", "dropped"):
        assert f"FILL({name}, 0)" in returned["Expression"]
    assert all(m["MetricStat"]["Period"] == 86400 for m in metrics.values() if "MetricStat" in m)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == [EVERYTHING_ON["AlarmTopicArn"]]


def test_bucket_versioning_and_access_logs_are_options(full: Stack, defaults: Stack) -> None:
    bucket = full.properties("ResultsBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == "databot-access-logs"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": full.parameters["ResultsRetentionDays"]
    }
    plain = defaults.properties("ResultsBucket")
    assert "VersioningConfiguration" not in plain and "LoggingConfiguration" not in plain


def test_ingress_concurrency_is_reserved_by_parameter(full: Stack) -> None:
    slack = full.properties("SlackEventsFunction")["ReservedConcurrentExecutions"]
    prompt = full.properties("PromptApiFunction")["ReservedConcurrentExecutions"]
    teams = full.properties("TeamsMessagesFunction")["ReservedConcurrentExecutions"]
    assert (slack, prompt, teams) == (
        full.parameters["SlackReservedConcurrency"],
        full.parameters["PromptApiReservedConcurrency"],
        full.parameters["TeamsReservedConcurrency"],
    )


def test_ingress_functions_are_traced_and_may_write_traces(full: Stack) -> None:
    assert full.globals["Function"]["Tracing"] == "Active"
    tracing_roles = {role for role, s in statements(full)
                     if "xray:PutTraceSegments" in as_list(s["Action"])}
    assert tracing_roles == {"SlackEventsRole", "PromptApiRole", "DlqNotifierRole",
                             "TeamsMessagesRole"}
    assert full.properties("PythonSandboxFunction")["Tracing"] == "PassThrough"


@pytest.mark.parametrize(("tracer", "trace_disabled"), [("Enabled", "false"), ("Disabled", "true")])
def test_the_tracer_parameter_switches_the_ingress_functions_tracer(
    template: dict[str, Any], tracer: str, trace_disabled: str
) -> None:
    stack = Stack(template, {**REQUIRED_PARAMETERS, **EVERYTHING_ON, "XRayTracer": tracer})
    switches = {
        name: function["Properties"]["Environment"]["Variables"].get("POWERTOOLS_TRACE_DISABLED")
        for name, function in stack.of_type("AWS::Serverless::Function").items()
    }
    assert switches == {
        "SlackEventsFunction": trace_disabled,
        "PromptApiFunction": trace_disabled,
        "DlqNotifierFunction": trace_disabled,
        "TeamsMessagesFunction": trace_disabled,
        "PythonSandboxFunction": None,  # no tracer: its traces are passed through only
    }


def test_the_tracer_is_off_by_default_so_the_slack_cold_start_stays_as_measured(
    defaults: Stack,
) -> None:
    assert defaults.parameters["XRayTracer"] == "Disabled"
    variables = defaults.properties("SlackEventsFunction")["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_every_scanner_suppression_gives_its_reason(template: dict[str, Any]) -> None:
    skipped = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skipped
    for name, skip in skipped:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
        assert len(skip.get("comment", "")) > 40, (name, skip["id"])


def test_outputs_give_what_the_deploy_guide_uses(stack: Stack) -> None:
    outputs = {name: stack.resolve(o["Value"]) for name, o in stack.template["Outputs"].items()}
    assert outputs["SlackRequestUrl"] == (
        "https://HttpApi.execute-api.us-east-1.amazonaws.com/slack/events"
    )
    assert outputs["PromptApiUrl"].endswith("/prompt")
    assert outputs["JobsQueueUrl"] == "JobsQueue"
    assert outputs["ResultsBucketName"] == "ResultsBucket"
    assert outputs["UsageTableName"] == "UsageTable"


# --- helpers --------------------------------------------------------------------------------------


def _dockerfile_cmd(name: str) -> str:
    text = (REPO / name).read_text()
    match = re.search(r'^CMD \["([^"]+)"\]', text, re.M)
    assert match, f"{name} has no CMD"
    return match.group(1)


def _emitted_worker_metrics(capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The metric names the worker writes as EMF, from every WorkerMetrics method."""
    from bot.answer import Answer, CodeRun, Usage
    from executor.worker.metrics import SERVICE, WorkerMetrics

    capsys.readouterr()
    metrics = WorkerMetrics("databot", primary_model="model-a")
    metrics.job_started()
    metrics.job_succeeded(1.0)
    metrics.job_failed("permanent", 1.0)
    metrics.job_retried()
    metrics.partial_delivery()
    metrics.duplicate()
    metrics.first_reply(0.5)
    metrics.model_error()
    fallback = Answer(text="t", code=[CodeRun(code="1/0", output="", error="ZeroDivisionError")],
                      usage=Usage(model_id="model-b", cost_usd=0.02))
    metrics.answered(fallback, 4.0)
    metrics.verified_checked(ok=30, drifted=1, broken=2)
    metrics.verified_check_failed()
    names: set[str] = set()
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "databot" and directive["Dimensions"] == [["service"]]
        assert document["service"] == SERVICE
        names |= {metric["Name"] for metric in directive["Metrics"]}
    return names


def test_dashboard_and_alarm_metrics_are_ones_the_worker_emits(
    full: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN every metric the worker writes
    from executor.worker.metrics import SERVICE

    emitted = _emitted_worker_metrics(capsys)
    # WHEN the dashboard and the alarms name metrics in the worker's namespace
    named = {
        m[1]
        for m in _dashboard_metrics(full)
        if m[0] == "databot" and m[2:4] == ["service", SERVICE]
    }
    for alarm in full.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        metrics = [props] if "MetricName" in props else [
            m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m
        ]
        for metric in metrics:
            if metric["Namespace"] == "databot":
                named.add(metric["MetricName"])
                assert metric["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    shown = [m for m in _dashboard_metrics(full) if m[0] == "databot"]
    assert all(m[2:4] in (["service", SERVICE], *INGRESS_SERVICES) for m in shown)
    # THEN each of them is one the worker really writes
    assert named and named <= emitted, named - emitted
    assert {"ModelFallbacks", "SandboxFailures", "AnswerCost", "QueueToAnswer"} <= emitted


# The front doors' services, as the template names their functions' POWERTOOLS_SERVICE_NAME.
INGRESS_SERVICES = (["service", "slack-ingress"], ["service", "prompt-api"])


def test_dashboard_ingress_metrics_are_ones_the_front_doors_count(full: Stack) -> None:
    from bot.ingress.metrics import INGRESS_METRICS

    # GIVEN the dashboard's metrics of the front doors' services
    shown = [
        m for m in _dashboard_metrics(full) if m[0] == "databot" and m[2:4] in INGRESS_SERVICES
    ]
    # THEN each is a name bot/ingress/metrics.py counts, and every count is shown for Slack
    assert {m[1] for m in shown} <= set(INGRESS_METRICS)
    slack = {m[1] for m in shown if m[3] == "slack-ingress"}
    assert slack == set(INGRESS_METRICS)
    # AND each service is one a front-door function is given
    services = {
        f["Properties"]["Environment"]["Variables"].get("POWERTOOLS_SERVICE_NAME")
        for f in full.of_type("AWS::Serverless::Function").values()
    }
    assert {m[3] for m in shown} <= services


def test_a_failing_audit_trail_write_raises_an_alarm(full: Stack) -> None:
    # The worker logs its audit trail's failed writes as errors (executor/governance)
    log_filter = full.properties("AuditWriteFailuresFilter")
    assert log_filter["LogGroupName"] == "WorkerLogGroup"
    assert log_filter["FilterPattern"] == '{ $.level = "ERROR" && $.message = "audit |*" }'
    (metric,) = log_filter["MetricTransformations"]
    alarm = full.properties("AuditWriteAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        metric["MetricNamespace"], metric["MetricName"])
    service = next(e["Value"] for e in container(full)["Environment"]
                   if e["Name"] == "POWERTOOLS_SERVICE_NAME")
    assert metric["Dimensions"] == [{"Key": "service", "Value": "$.service"}]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    assert alarm["AlarmActions"] == [EVERYTHING_ON["AlarmTopicArn"]]
