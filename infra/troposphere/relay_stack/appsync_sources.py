"""Read the AppSync schema and resolver definitions from schema/ at build time.

The texts go into the template unchanged: files are read as bytes and decoded
as UTF-8, so no newline translation happens on any platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_DATA_SOURCE_TYPES = frozenset({"NONE"})


class AppSyncSourceError(ValueError):
    """Error in schema/resolvers.json: a name that is missing, or a type the stack does not support."""


@dataclass(frozen=True)
class DataSourceSpec:
    name: str
    type: str


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    data_source_name: str
    request_template: str
    response_template: str


@dataclass(frozen=True)
class ResolverSpec:
    type_name: str
    field_name: str
    request_template: str
    response_template: str
    # A UNIT resolver names a data source, and a PIPELINE resolver names functions.
    data_source_name: str | None = None
    function_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppSyncSources:
    schema_text: str
    data_sources: tuple[DataSourceSpec, ...]
    functions: tuple[FunctionSpec, ...]
    resolvers: tuple[ResolverSpec, ...]


def read_text_unchanged(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError as error:
        raise AppSyncSourceError(f"{path} not found, but resolvers.json names it") from error


def load_appsync_sources(schema_dir: Path) -> AppSyncSources:
    """Load schema.graphql, resolvers.json and every mapping template it names."""
    spec = json.loads(read_text_unchanged(schema_dir / "resolvers.json"))

    def template_text(relative: str) -> str:
        return read_text_unchanged(schema_dir / relative)

    data_sources = tuple(DataSourceSpec(d["name"], d["type"]) for d in spec["dataSources"])
    for source in data_sources:
        if source.type not in SUPPORTED_DATA_SOURCE_TYPES:
            raise AppSyncSourceError(
                f"data source {source.name!r} has type {source.type!r}, but the stack creates only "
                f"{sorted(SUPPORTED_DATA_SOURCE_TYPES)} data sources. Add its role and config to appsync.py"
            )
    known_sources = {source.name for source in data_sources}

    functions = tuple(
        FunctionSpec(
            name=f["name"],
            data_source_name=f["dataSourceName"],
            request_template=template_text(f["requestMappingTemplate"]),
            response_template=template_text(f["responseMappingTemplate"]),
        )
        for f in spec.get("functions", [])
    )
    resolvers = tuple(
        ResolverSpec(
            type_name=r["typeName"],
            field_name=r["fieldName"],
            request_template=template_text(r["requestMappingTemplate"]),
            response_template=template_text(r["responseMappingTemplate"]),
            data_source_name=r.get("dataSourceName"),
            function_names=tuple(r.get("functions", [])),
        )
        for r in spec["resolvers"]
    )

    known_functions = {f.name for f in functions}
    for owner, name in [(f"function {f.name}", f.data_source_name) for f in functions] + [
        (f"resolver {r.type_name}.{r.field_name}", r.data_source_name) for r in resolvers if r.data_source_name
    ]:
        if name not in known_sources:
            raise AppSyncSourceError(f"{owner} names data source {name!r}, which dataSources does not define")
    for resolver in resolvers:
        missing = set(resolver.function_names) - known_functions
        if missing:
            raise AppSyncSourceError(
                f"resolver {resolver.type_name}.{resolver.field_name} names functions "
                f"{sorted(missing)}, which functions does not define"
            )
        if not resolver.data_source_name and not resolver.function_names:
            raise AppSyncSourceError(
                f"resolver {resolver.type_name}.{resolver.field_name} needs dataSourceName or functions"
            )

    return AppSyncSources(
        schema_text=read_text_unchanged(schema_dir / "schema.graphql"),
        data_sources=data_sources,
        functions=functions,
        resolvers=resolvers,
    )
