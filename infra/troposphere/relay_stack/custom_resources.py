"""The inline Lambda function behind the stack's two custom resources.

AWS::MSK::Cluster returns only its ARN, so a custom resource calls
kafka:GetBootstrapBrokers once the cluster is ACTIVE. The relay and the
producer then receive the broker string with the ports that MSK chose (9098
for IAM, 9096 for SCRAM), and the template hard-codes no host or port. The
same function computes the AppSync API key's expiry at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from troposphere import AWSObject, GetAtt, Ref, Template, awslambda, iam, msk

from . import iam as policies
from .compliance import skip_checkov
from .logs import add_log_group, log_streams_arn
from .parameters import StackParameters

HANDLER_SOURCE_PATH = Path(__file__).with_name("custom_resource_handler.py")
# CloudFormation rejects inline (ZipFile) code longer than this many characters.
MAX_INLINE_CODE_CHARS = 4096
RUNTIME = "python3.13"


class MskBootstrapBrokers(AWSObject):
    resource_type = "Custom::MskBootstrapBrokers"
    props = {"ServiceToken": (str, True), "ClusterArn": (str, True)}


class ApiKeyExpiry(AWSObject):
    resource_type = "Custom::ApiKeyExpiry"
    props = {"ServiceToken": (str, True), "ValidityDays": (str, True), "RenewalToken": (str, True)}


@dataclass(frozen=True)
class CustomResourceFunction:
    function: awslambda.Function
    role: iam.Role


def read_handler_source() -> str:
    source = HANDLER_SOURCE_PATH.read_bytes().decode("utf-8")
    if len(source) > MAX_INLINE_CODE_CHARS:
        raise ValueError(
            f"{HANDLER_SOURCE_PATH.name} has {len(source)} characters, more than the "
            f"{MAX_INLINE_CODE_CHARS} that CloudFormation accepts inline. Shorten it"
        )
    return source


def add_custom_resource_function(template: Template, key, p: StackParameters) -> CustomResourceFunction:
    log_group = add_log_group(template, "CustomResourceLogGroup", GetAtt(key, "Arn"), p)
    role = template.add_resource(
        iam.Role(
            "CustomResourceRole",
            AssumeRolePolicyDocument=policies.assume_role_policy("lambda.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="write-logs",
                    PolicyDocument=policies.policy_document(
                        policies.statement(
                            ["logs:CreateLogStream", "logs:PutLogEvents"], [log_streams_arn(log_group)]
                        )
                    ),
                )
            ],
        )
    )
    function = awslambda.Function(
        "CustomResourceFunction",
        Description="Custom resources of the relay stack: MSK bootstrap brokers, API key expiry",
        Runtime=RUNTIME,
        Architectures=["arm64"],
        Handler="index.handler",
        Code=awslambda.Code(ZipFile=read_handler_source()),
        Role=GetAtt(role, "Arn"),
        Timeout=60,
        MemorySize=128,
        # Two custom resources may be created in parallel.
        ReservedConcurrentExecutions=2,
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
    )
    skip_checkov(
        function,
        ("CKV_AWS_117", "Calls only the MSK control-plane API, so it needs no VPC access."),
        ("CKV_AWS_116", "CloudFormation invokes it and reports its failures, so a queue would redrive nothing."),
    )
    template.add_resource(function)
    return CustomResourceFunction(function=function, role=role)


def add_bootstrap_brokers(
    template: Template, custom: CustomResourceFunction, cluster: msk.Cluster
) -> MskBootstrapBrokers:
    # The permission is a separate policy so that the function (and the API
    # key expiry) does not wait for the cluster, which takes about 30 minutes.
    policy = template.add_resource(
        iam.PolicyType(
            "CustomResourceBrokerLookupPolicy",
            PolicyName="get-bootstrap-brokers",
            Roles=[Ref(custom.role)],
            PolicyDocument=policies.policy_document(
                policies.statement(["kafka:GetBootstrapBrokers"], [Ref(cluster)])
            ),
        )
    )
    return template.add_resource(
        MskBootstrapBrokers(
            "BootstrapBrokers",
            DependsOn=[policy],
            ServiceToken=GetAtt(custom.function, "Arn"),
            ClusterArn=Ref(cluster),
        )
    )


def add_api_key_expiry(template: Template, custom: CustomResourceFunction, p: StackParameters) -> ApiKeyExpiry:
    """Add the expiry, which a new RenewalToken or ValidityDays recomputes from the deploy time."""
    return template.add_resource(
        ApiKeyExpiry(
            "ApiKeyExpiry",
            ServiceToken=GetAtt(custom.function, "Arn"),
            ValidityDays=Ref(p.api_key_validity_days),
            RenewalToken=Ref(p.api_key_renewal_token),
        )
    )
