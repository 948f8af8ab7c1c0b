"""The AppSync GraphQL API: schema, NONE data sources, VTL resolvers, the API
key with its Secrets Manager copy, and CloudWatch logging."""

from __future__ import annotations

import re
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template, appsync, iam, secretsmanager

from . import iam as policies
from .appsync_sources import AppSyncSources
from .compliance import skip_checkov
from .custom_resources import ApiKeyExpiry
from .logs import add_log_group, log_streams_arn
from .parameters import StackParameters

# The VTL resolver runtime version that the templates in schema/resolvers/ use.
VTL_FUNCTION_VERSION = "2018-05-29"


@dataclass(frozen=True)
class GraphQL:
    api: appsync.GraphQLApi
    schema: appsync.GraphQLSchema
    api_key: appsync.ApiKey
    api_key_secret: secretsmanager.Secret


def logical_id(*parts: str) -> str:
    """Return a CloudFormation logical ID (alphanumeric) built from name parts."""
    return "".join(re.sub(r"[^A-Za-z0-9]", "", part[:1].upper() + part[1:]) for part in parts)


def publish_field_arn(api: appsync.GraphQLApi) -> Sub:
    """Return the ARN of Mutation.publish, the only field the relay may call."""
    return Sub("${ApiArn}/types/Mutation/fields/publish", ApiArn=GetAtt(api, "Arn"))


def add_graphql_api(
    template: Template,
    p: StackParameters,
    sources: AppSyncSources,
    key,
    expiry: ApiKeyExpiry,
) -> GraphQL:
    logs_role = template.add_resource(
        iam.Role(
            "AppSyncLogsRole",
            AssumeRolePolicyDocument=policies.assume_role_policy(
                "appsync.amazonaws.com",
                StringEquals={"aws:SourceAccount": Ref("AWS::AccountId")},
            ),
        )
    )
    api = template.add_resource(
        appsync.GraphQLApi(
            "GraphQLApi",
            Name=Sub("${AWS::StackName}-ticks"),
            # Subscribers (browsers) use the API key, and the relay may sign with IAM.
            AuthenticationType="API_KEY",
            AdditionalAuthenticationProviders=[
                appsync.AdditionalAuthenticationProvider(AuthenticationType="AWS_IAM")
            ],
            LogConfig=appsync.LogConfig(
                CloudWatchLogsRoleArn=GetAtt(logs_role, "Arn"),
                FieldLogLevel="ERROR",
                # Verbose content would copy every tick (request and response) into the logs.
                ExcludeVerboseContent=True,
            ),
        )
    )
    skip_checkov(
        api,
        ("CKV2_AWS_33", "The API serves the relay's publish mutations and subscriptions. "
         "A WAF web ACL is an operator's choice and cost, not part of this stack."),
    )
    # AppSync writes to this fixed log group name. Its role lacks
    # logs:CreateLogGroup, so AppSync cannot create the group unencrypted
    # before CloudFormation creates it with the stack key.
    log_group = add_log_group(
        template, "AppSyncLogGroup", GetAtt(key, "Arn"), p,
        name=Sub("/aws/appsync/apis/${ApiId}", ApiId=GetAtt(api, "ApiId")),
    )
    # A separate policy breaks the cycle role -> log group -> API -> role.
    template.add_resource(
        iam.PolicyType(
            "AppSyncLogsPolicy",
            PolicyName="write-appsync-logs",
            Roles=[Ref(logs_role)],
            PolicyDocument=policies.policy_document(
                policies.statement(["logs:CreateLogStream", "logs:PutLogEvents"], [log_streams_arn(log_group)])
            ),
        )
    )

    schema = template.add_resource(
        appsync.GraphQLSchema("GraphQLSchema", ApiId=GetAtt(api, "ApiId"), Definition=sources.schema_text)
    )
    data_sources = {
        spec.name: template.add_resource(
            appsync.DataSource(
                logical_id("DataSource", spec.name),
                ApiId=GetAtt(api, "ApiId"),
                Name=spec.name,
                Type=spec.type,
            )
        )
        for spec in sources.data_sources
    }
    # Every resolver, function and API key waits for the schema: AppSync
    # rejects changes made while a schema update runs, which otherwise makes
    # deploys fail now and then.
    functions = {
        spec.name: template.add_resource(
            appsync.FunctionConfiguration(
                logical_id("Function", spec.name),
                DependsOn=[schema],
                ApiId=GetAtt(api, "ApiId"),
                Name=spec.name,
                DataSourceName=GetAtt(data_sources[spec.data_source_name], "Name"),
                FunctionVersion=VTL_FUNCTION_VERSION,
                RequestMappingTemplate=spec.request_template,
                ResponseMappingTemplate=spec.response_template,
            )
        )
        for spec in sources.functions
    }
    for spec in sources.resolvers:
        resolver = appsync.Resolver(
            logical_id("Resolver", spec.type_name, spec.field_name),
            DependsOn=[schema],
            ApiId=GetAtt(api, "ApiId"),
            TypeName=spec.type_name,
            FieldName=spec.field_name,
            RequestMappingTemplate=spec.request_template,
            ResponseMappingTemplate=spec.response_template,
        )
        if spec.function_names:
            resolver.Kind = "PIPELINE"
            resolver.PipelineConfig = appsync.PipelineConfig(
                Functions=[GetAtt(functions[name], "FunctionId") for name in spec.function_names]
            )
        else:
            resolver.Kind = "UNIT"
            resolver.DataSourceName = GetAtt(data_sources[spec.data_source_name], "Name")
        template.add_resource(resolver)

    api_key = template.add_resource(
        appsync.ApiKey(
            "ApiKey",
            DependsOn=[schema],
            ApiId=GetAtt(api, "ApiId"),
            Description=Sub("Subscribers of ${AWS::StackName}, renewed with ApiKeyRenewalToken"),
            Expires=GetAtt(expiry, "ExpiresEpochSeconds"),
        )
    )
    api_key_secret = secretsmanager.Secret(
        "ApiKeySecret",
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        Description="AppSync API key, read by the relay when RelayAppSyncAuth is api_key",
        KmsKeyId=GetAtt(key, "Arn"),
        SecretString=GetAtt(api_key, "ApiKey"),
    )
    template.add_resource(api_key_secret)
    return GraphQL(api=api, schema=schema, api_key=api_key, api_key_secret=api_key_secret)
