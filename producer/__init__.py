"""Stock tick producer: replayed, synthetic or live ticks, sent to Kafka as keyed JSON records.

Entry points: the CLI (`python -m producer`, producer.cli) and the Lambda
handler (producer.lambda_handler.handler). Both send through producer.run.
"""
