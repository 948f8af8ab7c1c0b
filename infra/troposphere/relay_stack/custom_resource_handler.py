"""Custom resources of the relay stack. CloudFormation runs this file as inline Lambda code.

Custom::MskBootstrapBrokers returns the cluster's bootstrap broker strings,
because AWS::MSK::Cluster has no attribute for them. Custom::ApiKeyExpiry
returns an expiry for AWS::AppSync::ApiKey, because a template cannot read
the clock. Any error is reported as FAILED instead of leaving the stack
waiting for the custom resource timeout.
"""
import json
import time
import urllib.request

SECONDS_PER_DAY = 86400


def bootstrap_brokers(properties):
    import boto3

    response = boto3.client("kafka").get_bootstrap_brokers(ClusterArn=properties["ClusterArn"])
    # GetAtt fails on a missing attribute, so a disabled mechanism yields "".
    return {
        "SaslIam": response.get("BootstrapBrokerStringSaslIam", ""),
        "SaslScram": response.get("BootstrapBrokerStringSaslScram", ""),
    }


def api_key_expiry(properties, now_s=None):
    days = int(properties["ValidityDays"])
    if not 2 <= days <= 364:
        raise ValueError(f"ValidityDays={days} is invalid: use 2 to 364, which stays inside "
                         "AppSync's 1 to 365 days after it rounds down to the hour")
    now_s = time.time() if now_s is None else now_s
    return {"ExpiresEpochSeconds": str(int(now_s) + days * SECONDS_PER_DAY)}


HANDLERS = {
    "Custom::MskBootstrapBrokers": bootstrap_brokers,
    "Custom::ApiKeyExpiry": api_key_expiry,
}


def response_body(event, status, data, reason, physical_id):
    return {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }


def handler(event, context):
    status, data = "SUCCESS", {}
    reason = f"See log stream {context.log_stream_name}"
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["RequestType"] != "Delete":
            data = HANDLERS[event["ResourceType"]](event["ResourceProperties"])
    except Exception as error:  # noqa: BLE001 - every failure must reach CloudFormation
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    print(json.dumps({"event": "custom_resource", "type": event["ResourceType"],
                      "request": event["RequestType"], "status": status, "reason": reason}))
    body = json.dumps(response_body(event, status, data, reason, physical_id)).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30):
        pass
