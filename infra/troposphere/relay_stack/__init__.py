"""The CloudFormation stack of kafka-appsync-relay, written with Troposphere.

Each module adds one concept to the template (network, security, MSK, AppSync,
ECS, producer Lambda, bastion, observability, outputs); `stack.build_template`
assembles them. The package is not named `troposphere` on purpose: that name
would shadow the library when `infra/` is on `sys.path`.
"""
