"""The AppSync API: schema and mapping templates copied unchanged, DependsOn
on the schema, auth modes, logging, and the loader's checks."""

from __future__ import annotations

import json
import shutil

import cfn_flip
import pytest


@pytest.fixture(scope="module")
def schema_dir(repo_root):
    return repo_root / "schema"


@pytest.fixture(scope="module")
def resolver_specs(schema_dir) -> list[dict]:
    return json.loads((schema_dir / "resolvers.json").read_bytes())["resolvers"]


@pytest.fixture(scope="module")
def resolvers_by_field(of_type) -> dict:
    return {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"]): r
        for r in of_type("AWS::AppSync::Resolver").values()
    }


def _write_spec(schema_dir, tmp_path, change):
    """Copy schema/ to tmp_path, let `change` edit the parsed resolvers.json, and return the copy."""
    copy = tmp_path / "schema"
    shutil.copytree(schema_dir, copy)
    spec = json.loads((copy / "resolvers.json").read_bytes())
    change(spec)
    (copy / "resolvers.json").write_text(json.dumps(spec), encoding="utf-8")
    return copy


def _use_pipeline_for_publish(spec: dict) -> None:
    spec["functions"] = [{
        "name": "echoArguments",
        "dataSourceName": "NoneDataSource",
        "requestMappingTemplate": "resolvers/Mutation.publish.request.vtl",
        "responseMappingTemplate": "resolvers/Mutation.publish.response.vtl",
    }]
    spec["resolvers"] = [r for r in spec["resolvers"] if r["fieldName"] != "publish"] + [{
        "typeName": "Mutation",
        "fieldName": "publish",
        "functions": ["echoArguments"],
        "requestMappingTemplate": "resolvers/None.request.vtl",
        "responseMappingTemplate": "resolvers/Mutation.publish.response.vtl",
    }]


@pytest.fixture
def pipeline_schema_dir(schema_dir, tmp_path):
    """Return a copy of schema/ whose publish resolver is a pipeline of one function."""
    return _write_spec(schema_dir, tmp_path, _use_pipeline_for_publish)


def test_schema_equals_file(resources, schema_dir):
    definition = resources["GraphQLSchema"]["Properties"]["Definition"]
    assert definition.encode("utf-8") == (schema_dir / "schema.graphql").read_bytes()


def test_every_resolver_present(resolvers_by_field, resolver_specs):
    expected = {(spec["typeName"], spec["fieldName"]) for spec in resolver_specs}
    assert set(resolvers_by_field) == expected


def test_request_templates_equal_files(resolvers_by_field, resolver_specs, schema_dir):
    for spec in resolver_specs:
        resolver = resolvers_by_field[(spec["typeName"], spec["fieldName"])]
        text = resolver["Properties"]["RequestMappingTemplate"]
        assert text.encode("utf-8") == (schema_dir / spec["requestMappingTemplate"]).read_bytes(), spec["fieldName"]


def test_response_templates_equal_files(resolvers_by_field, resolver_specs, schema_dir):
    for spec in resolver_specs:
        resolver = resolvers_by_field[(spec["typeName"], spec["fieldName"])]
        text = resolver["Properties"]["ResponseMappingTemplate"]
        assert text.encode("utf-8") == (schema_dir / spec["responseMappingTemplate"]).read_bytes(), spec["fieldName"]


def test_resolvers_use_named_data_source(resolvers_by_field):
    sources = {r["Properties"]["DataSourceName"]["Fn::GetAtt"][0] for r in resolvers_by_field.values()}
    assert sources == {"DataSourceNoneDataSource"}


def test_data_source_is_none_type(resources):
    assert resources["DataSourceNoneDataSource"]["Properties"]["Type"] == "NONE"


def test_resolvers_depend_on_schema(of_type):
    missing = [name for name, r in of_type("AWS::AppSync::Resolver").items() if "GraphQLSchema" not in r["DependsOn"]]
    assert missing == []


def test_api_key_depends_on_schema(resources):
    assert "GraphQLSchema" in resources["ApiKey"]["DependsOn"]


def test_functions_depend_on_schema(build, pipeline_schema_dir):
    rendered = cfn_flip.load_yaml(build.render_template(pipeline_schema_dir))["Resources"]
    assert rendered["FunctionEchoArguments"]["DependsOn"] == ["GraphQLSchema"]


def test_pipeline_resolver_lists_functions(build, pipeline_schema_dir):
    rendered = cfn_flip.load_yaml(build.render_template(pipeline_schema_dir))["Resources"]
    config = rendered["ResolverMutationPublish"]["Properties"]["PipelineConfig"]
    assert config == {"Functions": [{"Fn::GetAtt": ["FunctionEchoArguments", "FunctionId"]}]}


def test_function_template_equals_file(build, pipeline_schema_dir):
    rendered = cfn_flip.load_yaml(build.render_template(pipeline_schema_dir))["Resources"]
    text = rendered["FunctionEchoArguments"]["Properties"]["RequestMappingTemplate"]
    assert text.encode() == (pipeline_schema_dir / "resolvers/Mutation.publish.request.vtl").read_bytes()


def test_crlf_template_kept(build, schema_dir, tmp_path):
    copy = _write_spec(schema_dir, tmp_path, lambda spec: None)
    (copy / "resolvers/Null.response.vtl").write_bytes(b"## windows line end\r\n$util.toJson(null)\r\n")
    rendered = cfn_flip.load_yaml(build.render_template(copy))["Resources"]
    text = rendered["ResolverQueryGetChannel"]["Properties"]["ResponseMappingTemplate"]
    assert text == "## windows line end\r\n$util.toJson(null)\r\n"


def test_unknown_data_source_rejected(build, schema_dir, tmp_path):
    copy = _write_spec(schema_dir, tmp_path, lambda spec: spec["resolvers"][0].update(dataSourceName="Missing"))
    with pytest.raises(ValueError, match="'Missing'"):
        build.render_template(copy)


def test_unsupported_data_source_rejected(build, schema_dir, tmp_path):
    copy = _write_spec(schema_dir, tmp_path, lambda spec: spec["dataSources"][0].update(type="AWS_LAMBDA"))
    with pytest.raises(ValueError, match="AWS_LAMBDA"):
        build.render_template(copy)


def test_missing_template_file_rejected(build, schema_dir, tmp_path):
    copy = _write_spec(
        schema_dir, tmp_path, lambda spec: spec["resolvers"][0].update(requestMappingTemplate="resolvers/none.vtl")
    )
    with pytest.raises(ValueError, match="none.vtl"):
        build.render_template(copy)


def test_api_key_is_default_auth(resources):
    assert resources["GraphQLApi"]["Properties"]["AuthenticationType"] == "API_KEY"


def test_iam_is_additional_auth(resources):
    providers = resources["GraphQLApi"]["Properties"]["AdditionalAuthenticationProviders"]
    assert providers == [{"AuthenticationType": "AWS_IAM"}]


def test_api_logs_errors(resources):
    assert resources["GraphQLApi"]["Properties"]["LogConfig"]["FieldLogLevel"] == "ERROR"


def test_api_log_group_name(resources):
    name = resources["AppSyncLogGroup"]["Properties"]["LogGroupName"]
    assert name == {"Fn::Sub": ["/aws/appsync/apis/${ApiId}", {"ApiId": {"Fn::GetAtt": ["GraphQLApi", "ApiId"]}}]}


def test_api_key_expiry_from_deploy_time(resources):
    assert resources["ApiKey"]["Properties"]["Expires"] == {"Fn::GetAtt": ["ApiKeyExpiry", "ExpiresEpochSeconds"]}


def test_api_key_renewal_inputs(resources):
    properties = resources["ApiKeyExpiry"]["Properties"]
    assert (properties["ValidityDays"], properties["RenewalToken"]) == (
        {"Ref": "ApiKeyValidityDays"}, {"Ref": "ApiKeyRenewalToken"}
    )


def test_api_key_secret_holds_key(resources):
    assert resources["ApiKeySecret"]["Properties"]["SecretString"] == {"Fn::GetAtt": ["ApiKey", "ApiKey"]}
